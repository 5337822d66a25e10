"""A small W3C WebDriver client for Debian's chromium-driver, on ``requests`` (no selenium:
its trio dependency cannot be imported under eventlet's patched sockets, which every test
process here uses). Enough for the page tests: open, find, type, click, run a script, read
the browser's console log, take a screenshot."""
from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class WebDriverError(RuntimeError):
    pass


def available() -> str | None:
    """None when chromium and chromedriver are installed, else what is missing."""
    missing = [p for p in (CHROMEDRIVER, CHROMIUM) if not (os.path.exists(p) or shutil.which(p))]
    return ", ".join(missing) + " not installed (make test installs them: scripts/browser_deps.sh)" if missing else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, width: int = 1280, height: int = 900):
        self.port = _free_port()
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(self.base + "/status", timeout=2).json()["value"]["ready"]:
                    break
            except (requests.ConnectionError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.1)
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": shutil.which(CHROMIUM) or CHROMIUM, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--lang=zh-CN", f"--window-size={width},{height}"]},
            "goog:loggingPrefs": {"browser": "ALL"},
        }
        try:
            value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, session=False)
        except Exception:
            self.proc.kill()
            raise
        self.session = value["sessionId"]

    # -- protocol ---------------------------------------------------------------------------
    def _call(self, method, path, body=None, session=True):
        url = self.base + (f"/session/{self.session}" if session else "") + path
        r = requests.request(method, url, json=body, timeout=60)
        value = r.json().get("value")
        if r.status_code >= 400:
            raise WebDriverError(f"{method} {path}: {value.get('error')}: {value.get('message', '')[:300]}")
        return value

    def quit(self):
        try:
            self._call("DELETE", "")
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    # -- pages ------------------------------------------------------------------------------
    def open(self, url: str):
        self._call("POST", "/url", {"url": url})

    def size(self, width: int, height: int):
        """The viewport's size (the window is made larger by what its frame takes)."""
        self._call("POST", "/window/rect", {"width": width, "height": height})
        inner_w, inner_h = self.run("return [window.innerWidth, window.innerHeight]")
        if (inner_w, inner_h) != (width, height):
            self._call("POST", "/window/rect", {"width": 2 * width - inner_w, "height": 2 * height - inner_h})

    def run(self, script: str, *args):
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        return self._call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type(self, css: str, text: str):
        element = self.find(css)
        self._call("POST", f"/element/{element}/clear", {})
        self._call("POST", f"/element/{element}/value", {"text": text})

    def click(self, css: str):
        self._call("POST", f"/element/{self.find(css)}/click", {})

    def keys(self, text: str):
        """Type into whatever has the focus (keyboard use: Tab is \\ue004, Enter \\ue007)."""
        actions = [{"type": "keyDown", "value": ch} for ch in text] + [{"type": "keyUp", "value": ch} for ch in text]
        self._call("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})

    def text(self, css: str) -> str | None:
        return self.run("const n = document.querySelector(arguments[0]); return n ? n.textContent.trim() : null;", css)

    def texts(self, css: str) -> list[str]:
        return self.run("return [...document.querySelectorAll(arguments[0])].map(n => n.textContent.trim());", css)

    def visible(self, css: str) -> bool:
        return bool(self.run("const n = document.querySelector(arguments[0]);"
                             "return !!n && !n.closest('[hidden]') && n.getClientRects().length > 0;", css))

    def wait(self, predicate, timeout: float = 15, message: str = "the page"):
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {message}")
            time.sleep(0.1)

    def console(self) -> list[dict]:
        """The browser's console and network messages since the last call (level, message)."""
        return self._call("POST", "/se/log", {"type": "browser"})

    def screenshot(self, path: Path, full: bool = False) -> Path:
        """A PNG of the viewport; ``full``: of the whole page (the viewport stretched to it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        width, height = self.run("return [window.innerWidth, window.innerHeight]")
        if full:
            self.size(width, max(height, self.run("return document.documentElement.scrollHeight")))
        try:
            path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))
        finally:
            if full:
                self.size(width, height)
        return path
