"""Headless Chromium driven over the DevTools protocol: a page as a person sees it, behind the
Prefect UI's login.

The Prefect UI of an authenticated server asks for the password once and keeps it in the
browser's local storage (``prefect-password``, base64). Here the browser opens the UI, is given
the password the same way the login form stores it, then opens the page and waits until what
the test looks for has rendered: the DOM as rendered, and a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import requests


class DevTools:
    """One page target of a running Chromium, spoken to over its websocket."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self._ws = connect(ws_url, max_size=None, open_timeout=30)
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 60, **params) -> dict:
        ident = next(self._ids)
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, ready: str = "document.readyState === 'complete'", timeout: float = 60) -> None:
        """Go to ``url`` and wait until the JavaScript condition ``ready`` holds."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({ready})"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{url}: not ready within {timeout:g} s ({ready})")
            time.sleep(0.5)

    def close(self) -> None:
        with suppress(Exception):
            self._ws.close()


@contextmanager
def chromium(binary: str, profile: Path, size: str = "1400,900"):
    """A headless Chromium with its own profile; yields a :class:`DevTools` on its first page."""
    profile.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             f"--window-size={size}", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                             "--remote-allow-origins=*", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tools = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Chromium did not open its DevTools port (exit {proc.poll()})")
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        pages = [t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
                 if t.get("type") == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        yield tools
    finally:
        if tools is not None:
            tools.close()
        proc.terminate()
        with suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()


def log_in_to_prefect_ui(tools: DevTools, ui: str, auth_string: str) -> None:
    """What the UI's login form does: keep the password in the browser's local storage."""
    tools.open(f"{ui}/")
    token = base64.b64encode(auth_string.encode()).decode()
    tools.evaluate(f"localStorage.setItem('prefect-password', {json.dumps(token)})")


def screenshot(tools: DevTools, path: Path) -> Path:
    path.write_bytes(base64.b64decode(tools.call("Page.captureScreenshot", format="png")["data"]))
    return path
