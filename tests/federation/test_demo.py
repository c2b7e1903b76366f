"""``lets-site demo --federation``: three demo groups seeded from the same demo steps with
other parameters, and a federation site showing their events in one agenda."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.demo_federation import GROUPS
from lets_site.events.models import Event
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.settings import SiteSettings

ROOT = Path(__file__).resolve().parent.parent.parent


def test_a_demo_group_differs_by_its_parameters_only(tmp_path: Path, monkeypatch: Any) -> None:
    from lets_site import create_app
    from lets_site.demo import build_demo

    oostende = GROUPS[1]
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
                      "MAIL_SEND_MODE": "cron"})
    with app.app_context():
        build_demo(oostende)
        site = db.session.get(SiteSettings, 1)
        assert site is not None
        assert (site.group_name, site.slug, site.locality, site.region) == (
            "LETS Oostende", "lets-oostende", "Oostende", "West-Vlaanderen")
        assert site.default_language == "nl"
        assert "LETS Oostende" in site.about_nl and "Ieper" not in site.about_nl
        locales = {m.locale for m in db.session.scalars(select(Member))}
        assert {"nl", "fr"} <= locales and "en" not in locales
        film = db.session.scalar(select(Event).where(Event.title.startswith("Filmavond")))
        assert film is not None
        assert film.starts_at.date() == date.today() + timedelta(days=9 + oostende.day_shift)
        assert film.venue_address.endswith("8400 Oostende")
        db.session.remove()
        db.engine.dispose()


def _free_ports(count: int) -> int:
    """A first port with ``count`` free ports from it."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65000:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no free ports")


def _get(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept-Language": "en"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(answer.read().decode())


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.real_commits
@pytest.mark.skipif(bool(os.environ.get("LETS_TEST_DATABASE_URL")),
                    reason="the demo's four sites run on SQLite whatever the suite's database:"
                           " run once, in the SQLite suite")
def test_federation_demo_shows_the_three_groups_events_in_one_agenda(tmp_path: Path) -> None:
    port = _free_ports(4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    env["PYTHONUNBUFFERED"] = "1"
    demo = subprocess.Popen(
        [sys.executable, "-m", "lets_site.cli", "demo", "--federation", "--port", str(port),
         "--instance", str(tmp_path / "fed")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Serving the four sites"):
                break
        text = "".join(output)
        assert "Serving the four sites" in text, text[-3000:]
        assert re.search(r"Fetched 3 feeds in [\d.]+ s: ok 3", text), text[-3000:]
        assert f"Common agenda          http://127.0.0.1:{port}/agenda/" in text

        agenda = _get(f"http://127.0.0.1:{port}/agenda/")
        groups = re.findall(r'<td data-label="Group">([^<]*)</td>', agenda)
        assert set(groups) == {"LETS Ieper", "LETS Oostende", "LETS Hasselt"}
        # The same demo event, on each group's own date.
        films = re.findall(r"<tr[^>]*>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*><a href=\"([^\"]*)\""
                           r"[^>]*>Filmavond", agenda)
        assert len({when for when, _ in films}) == 3
        assert {url.split("/")[2] for _, url in films} == {
            f"127.0.0.1:{port + n}" for n in (1, 2, 3)}
        # Each group site is its own, in its own language mix.
        for n, group in enumerate(GROUPS, start=1):
            feed = _get(f"http://127.0.0.1:{port + n}/feed.json")
            assert f'"slug": "{group.slug}"' in feed or f'"slug":"{group.slug}"' in feed
        # The groups share their contact scripts; the sweep fetched them for the hub.
        hub_group = _get(f"http://127.0.0.1:{port}/groups/{GROUPS[1].slug}")
        assert "Contact scripts they share" in hub_group
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl+C
        try:
            demo.wait(timeout=30)
        finally:
            if demo.poll() is None:
                demo.kill()
            if demo.stdout is not None:
                demo.stdout.close()
    # Ctrl+C stopped the four children too.
    assert not any(_answers(port + n) for n in range(4))


def test_federation_demo_refuses_an_address_its_config_does_not_allow(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    for host in ("0.0.0.0", "192.0.2.1"):
        result = subprocess.run(
            [sys.executable, "-m", "lets_site.cli", "demo", "--federation", "--host", host,
             "--instance", str(tmp_path / "fed")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 1
        assert "loopback address" in result.stderr
    assert not (tmp_path / "fed").exists()  # nothing started, nothing built
