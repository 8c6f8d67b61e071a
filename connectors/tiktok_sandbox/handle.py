"""Start a TikTok sandbox as a subprocess for tests, demos and benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from connectors.files import private_dir
from connectors.sandbox.server import require_web_server
from connectors.tiktok_sandbox.admin_client import TikTokSandboxAdmin
from connectors.tiktok_sandbox.settings import ENV_PREFIX, URL_LINE_PREFIX, TikTokSandboxSettings

_URL_LINE = re.compile(re.escape(URL_LINE_PREFIX) + r"(http://\S+)")
_REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_NAME = "tiktok-sandbox.log"


class TikTokSandboxStartError(RuntimeError):
    """The sandbox subprocess did not come up; the message carries the end of its log."""


@dataclass(eq=False)
class TikTokSandboxHandle:
    """A running TikTok sandbox: where it answers (``url`` is both ``auth_url`` and ``api_url``),
    its settings, and its admin client."""

    url: str
    settings: TikTokSandboxSettings = field(repr=False)
    admin: TikTokSandboxAdmin = field(repr=False)
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def auth_url(self) -> str:
        return self.url

    @property
    def api_url(self) -> str:
        return self.url

    @property
    def app_key(self) -> str:
        return self.settings.app_key

    @property
    def app_secret(self) -> str:
        return self.settings.app_secret.get_secret_value()

    @property
    def shops(self) -> tuple[str, ...]:
        return self.settings.shops

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

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
        """Stop, then start again on the same port and data dir (state kept; faults, stats and
        the rate limit back to their start)."""
        self.stop()
        self._proc, _ = _start(self.settings.model_copy(update={"port": self.port}))


def _env(settings: TikTokSandboxSettings) -> dict[str, str]:
    """The settings as ``LAPAK_TIKTOK_SANDBOX_*`` variables: nothing secret on a command line."""
    env = {}
    for name, value in settings.model_dump().items():
        if name == "app_secret":
            value = settings.app_secret.get_secret_value()
        elif name == "shops":
            value = ",".join(value)
        elif value is None:
            value = 0
        env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    return env


def _start(settings: TikTokSandboxSettings, timeout: float = 20.0) -> tuple[subprocess.Popen, str]:
    require_web_server()  # the subprocess runs this interpreter: say so here rather than in its log
    private_dir(settings.data_dir)  # its database holds buyers' names and addresses
    log_path = settings.data_dir / LOG_NAME
    offset = log_path.stat().st_size if log_path.exists() else 0
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}, **_env(settings),
           "PYTHONPATH": os.pathsep.join(p for p in (str(_REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
           "PYTHONUNBUFFERED": "1"}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "connectors.tiktok_sandbox"], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        return proc, _wait(proc, log_path, offset, timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _wait(proc: subprocess.Popen, log_path: Path, offset: int, timeout: float) -> str:
    deadline, url = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TikTokSandboxStartError(f"sandbox exited with status {proc.returncode}: {_tail(log_path, offset)}")
        if url is None:
            with open(log_path, "rb") as f:
                f.seek(offset)
                m = _URL_LINE.search(f.read().decode(errors="replace"))
            url = m.group(1) if m else None
        if url is not None:
            try:
                if requests.get(f"{url}/admin/health", timeout=2, proxies={"http": "", "https": ""}).ok:
                    return url
            except requests.RequestException:
                pass
        time.sleep(0.05)
    raise TikTokSandboxStartError(f"sandbox did not answer within {timeout:g} s: {_tail(log_path, offset)}")


def _tail(path: Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace").strip()
    return " | ".join(text.splitlines()[-5:]) or "(no output)"


@contextmanager
def running_tiktok_sandbox(data_dir: Path | str, **settings: Any) -> Iterator[TikTokSandboxHandle]:
    """Run a TikTok sandbox subprocess (``python -m connectors.tiktok_sandbox``) on 127.0.0.1.

    ``settings`` are :class:`TikTokSandboxSettings` fields (``app_key``, ``app_secret``, ``shops``,
    ``rate_limit``, ``port`` (0: a free one), ``access_token_ttl``, ``webhook_backoff``, …). Waits
    until it answers, yields its :class:`TikTokSandboxHandle`, stops it on exit. State lives in
    ``data_dir`` (``tiktok-sandbox.db``, ``images/``; output in ``tiktok-sandbox.log``).
    """
    s = TikTokSandboxSettings(**{**settings, "data_dir": Path(data_dir)})
    proc, url = _start(s)
    handle = TikTokSandboxHandle(url=url, settings=s, admin=TikTokSandboxAdmin(url), _proc=proc)
    try:
        yield handle
    finally:
        handle.stop()
        handle.admin.close()
