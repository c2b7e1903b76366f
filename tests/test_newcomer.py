"""The demo as a newcomer runs it from the README: ``lets-site demo`` builds a fresh demo
database, serves it on 127.0.0.1, shows a Dutch home page, and a printed login works."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LOGIN_RE = re.compile(r"^\s+(admin|member)\s+(\S+)\s+(\S+@\S+)\s+(\S+)", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_command_serves_a_dutch_site_with_working_logins(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    command = [str(Path(sys.executable).with_name("lets-site")), "demo",
               "--instance", str(tmp_path / "demo"), "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")),
                              daemon=True)  # type: ignore[union-attr]
    reader.start()
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        deadline = time.monotonic() + 90
        home = None
        while home is None:
            assert process.poll() is None, "lets-site demo stopped:\n" + "".join(output)
            assert time.monotonic() < deadline, "no demo server:\n" + "".join(output)
            try:
                with browser.open(base + "/", timeout=5) as response:
                    home = response.read().decode()
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)

        assert '<html lang="nl">' in home  # no Accept-Language: the group's language
        logins = LOGIN_RE.findall("".join(output))
        assert any(role == "member" for role, *_ in logins), "".join(output)
        _, code, _, password = next(login for login in logins if login[0] == "member")

        with browser.open(base + "/login", timeout=10) as response:
            token = CSRF_RE.search(response.read().decode())
        assert token
        form = urllib.parse.urlencode({"csrf_token": token.group(1), "identifier": code,
                                       "password": password}).encode()
        with browser.open(base + "/login", data=form, timeout=30) as response:
            page = response.read().decode()
            assert response.url == base + "/"  # followed the 303 to the home page
        assert 'action="/logout"' in page
        assert f"({code})" in page
        with browser.open(base + "/members/", timeout=10) as response:
            assert response.url == base + "/members/"  # not sent to the login page
            assert 'id="member-list"' in response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=15)
        reader.join(timeout=5)
        if process.stdout:
            process.stdout.close()
