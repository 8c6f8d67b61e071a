"""Start a sandbox marketplace as a subprocess for tests, the demo and benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from connectors.files import private_dir
from connectors.sandbox.admin_client import SandboxAdmin
from connectors.sandbox.server import require_web_server
from connectors.sandbox.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_FS_ID,
    DEFAULT_RATE_LIMIT,
    DEFAULT_SHOPS,
    URL_LINE_PREFIX,
)

_URL_LINE = re.compile(re.escape(URL_LINE_PREFIX) + r"(http://\S+)")
_REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_NAME = "sandbox.log"


class SandboxStartError(RuntimeError):
    """The sandbox subprocess did not come up; the message carries the end of its log."""


@dataclass(eq=False)
class SandboxHandle:
    """A running sandbox: where it answers, what it accepts, and its admin client.

    ``url`` serves both the token endpoint and the API (use it as ``auth_url`` and ``api_url``).
    """

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    fs_id: int
    shops: tuple[int, ...]
    rate_limit: float | None
    data_dir: Path
    port: int
    admin: SandboxAdmin = field(repr=False)
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def auth_url(self) -> str:
        """The token endpoint's host (the same address as the API)."""
        return self.url

    @property
    def api_url(self) -> str:
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop within ``timeout`` seconds."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def restart(self) -> None:
        """Stop, then start again on the same port and data dir (state kept, faults cleared)."""
        self.stop()
        self._proc, _ = _start(self.data_dir, self.port, self.client_id, self.client_secret,
                               self.fs_id, self.shops, self.rate_limit)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def _start(data_dir: Path, port: int, client_id: str, client_secret: str, fs_id: int,
           shops: Sequence[int], rate_limit: float | None, timeout: float = 20.0) -> tuple[subprocess.Popen, str]:
    require_web_server()  # the subprocess runs this interpreter: say so now rather than in its log
    private_dir(data_dir)  # its database holds buyers' names and addresses
    log_path = data_dir / LOG_NAME
    offset = log_path.stat().st_size if log_path.exists() else 0
    cmd = [sys.executable, "-m", "connectors.sandbox", "--port", str(port), "--data", str(data_dir),
           "--client-id", client_id, "--fs-id", str(fs_id), "--shops", ",".join(map(str, shops)),
           "--rate-limit", str(rate_limit or 0)]
    env = {**os.environ, "LAPAK_SANDBOX_CLIENT_SECRET": client_secret,  # not on the command line
           "PYTHONPATH": os.pathsep.join(p for p in (str(_REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
           "PYTHONUNBUFFERED": "1"}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + timeout
    url = None
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxStartError(f"sandbox exited with status {proc.returncode}: {_tail(log_path, offset)}")
            if url is None:
                with open(log_path, "rb") as f:
                    f.seek(offset)
                    m = _URL_LINE.search(f.read().decode(errors="replace"))
                url = m.group(1) if m else None
            if url is not None:
                try:
                    if requests.get(f"{url}/admin/health", timeout=2).ok:
                        return proc, url
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        raise SandboxStartError(f"sandbox did not answer within {timeout:g} s: {_tail(log_path, offset)}")
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _tail(path: Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace").strip()
    return " | ".join(text.splitlines()[-5:]) or "(no output)"


@contextmanager
def running_sandbox(
    data_dir: Path,
    *,
    port: int = 0,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    fs_id: int = DEFAULT_FS_ID,
    shops: Sequence[int] = DEFAULT_SHOPS,
    rate_limit: float | None = DEFAULT_RATE_LIMIT,
) -> Iterator[SandboxHandle]:
    """Run a sandbox marketplace subprocess (``python -m connectors.sandbox``) on 127.0.0.1.

    Waits until it answers, yields its :class:`SandboxHandle`, and stops it on exit. State
    lives in ``data_dir`` (``sandbox.db``; output in ``sandbox.log``). ``rate_limit`` is
    items/s per endpoint path, ``None`` for none.
    """
    data_dir = Path(data_dir)
    proc, url = _start(data_dir, port, client_id, client_secret, fs_id, tuple(shops), rate_limit)
    handle = SandboxHandle(url=url, client_id=client_id, client_secret=client_secret, fs_id=fs_id,
                           shops=tuple(shops), rate_limit=rate_limit, data_dir=data_dir,
                           port=int(url.rsplit(":", 1)[1]), admin=SandboxAdmin(url), _proc=proc)
    try:
        yield handle
    finally:
        handle.stop()
        handle.admin.close()
