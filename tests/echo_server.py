"""A real HTTP server (a socket, a thread) that quotes the request back, as some proxies and debug
pages do: its error ``reason``/``message``, error code, HTTP reason phrase and row messages carry
the ``Authorization`` and ``x-tts-access-token`` headers, the query string and the bare values of
each (a Basic credential decoded too). With ``upstream`` it forwards what no rule answers.

A rule is ``(method, path, answer)``: ``answer(request)`` returns ``(status, body, headers)``, or
``None`` to forward. Rules are used once each, in order; ``rule(..., times=n)`` adds one n times.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def echo(self) -> str:
        """What a debug page shows of the request: headers, query, and their bare values."""
        auth = self.headers.get("authorization", "")
        tts = self.headers.get("x-tts-access-token", "")
        bare = [auth.partition(" ")[2], tts, *(v for _, v in parse_qsl(self.query))]
        if auth.lower().startswith("basic "):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                bare.append(base64.b64decode(auth[6:]).decode())  # "client_id:secret"
        return (f"proxy debug: {self.method} {self.path}?{self.query} Authorization: {auth} "
                f"x-tts-access-token: {tts} values: {' '.join(v for v in bare if v)}")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Answer = Callable[[Request], tuple[int, Any, dict[str, str]] | None]


@dataclass
class EchoServer:
    upstream: str | None = None
    rules: list[tuple[str, str, Answer]] = field(default_factory=list)
    seen: list[Request] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # access tokens the upstream issued through us
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rule(self, method: str, path: str, answer: Answer, times: int = 1) -> None:
        with self.lock:
            self.rules += [(method, path, answer)] * times

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.seen.append(req)
            found = next((r for r in self.rules if r[0] == req.method and r[1] == req.path), None)
            if found is not None:
                self.rules.remove(found)
        out = found[2](req) if found is not None else None
        if out is not None:
            return out
        return self.forward(req)

    def forward(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        """The upstream's answer to ``req`` (a rule may call it and change the answer)."""
        if self.upstream is None:
            return 404, {"header": {"reason": f"no rule for {req.method} {req.path}"}}, {}
        headers = {k: v for k, v in req.headers.items() if k not in ("host", "content-length", "connection")}
        resp = requests.request(req.method, f"{self.upstream}{req.path}", params=req.query or None,
                                data=req.body or None, headers=headers, timeout=30)
        if req.path == "/token" and resp.ok:
            with self.lock:
                self.issued.append(resp.json()["access_token"])
        keep = {k: v for k, v in resp.headers.items() if k.lower().startswith(("content-type", "x-ratelimit"))}
        return resp.status_code, resp.content, keep

    def __enter__(self) -> EchoServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = Request(self.command, parts.path, parts.query,
                              {k.lower(): v for k, v in self.headers.items()}, body)
                status, payload, headers = server._answer(req)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                phrase = headers.pop("phrase", None)
                self.send_response(status, phrase)
                headers.setdefault("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _serve

            def log_message(self, *args: Any) -> None:  # not to stderr
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def envelope_error(req: Request, status: int = 400, *, phrase: bool = True) -> tuple[int, Any, dict[str, str]]:
    """The marketplace's error envelope with the request quoted in every text it has."""
    headers = {"phrase": f"Bad {req.echo}"[:900]} if phrase else {}
    header = {"reason": req.echo, "messages": [req.echo], "error_code": req.echo}
    return status, {"header": header, "data": None}, headers


def tiktok_error(req: Request, code: int = 36009004, status: int = 200) -> tuple[int, Any, dict[str, str]]:
    """The TikTok envelope refusing the call, the request quoted in its message."""
    return status, {"code": code, "message": req.echo, "request_id": req.echo[:60], "data": None}, {}
