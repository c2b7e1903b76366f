"""``lets-site demo --federation``: three demo group sites and a federation site on one
machine, so a newcomer sees the common agenda working.

Each group site is the ordinary demo (``lets-site demo --group SLUG``, a child process with
its own instance folder) seeded from the same demo steps with other parameters
(:data:`GROUPS`: name, place, the members' languages, the events' dates). The federation
site is a fresh database of its own whose ``config.py`` alone allows the loopback network
and plain http for fetching (``ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]``,
``FEDERATION_ALLOW_HTTP = True``). This process registers the three feeds there and runs
one fetch (``lets-site federation add`` and ``fetch``, as an admin would), prints the
addresses and keeps the four children serving until Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lets_site.features import DemoGroup

DEMO_MARKER = "DEMO-DATABASE"  # as lets_site.cli writes it

# The first is the default demo (LETS Ieper, Dutch); the others differ by name, place,
# language mix and the dates of their events.
GROUPS: tuple[DemoGroup, ...] = (
    DemoGroup(),
    DemoGroup(name="LETS Oostende", slug="lets-oostende", locality="Oostende",
              postcode="8400", region="West-Vlaanderen", languages=("nl", "fr"),
              day_shift=2, seed=8400),
    DemoGroup(name="LETS Hasselt", slug="lets-hasselt", locality="Hasselt",
              postcode="3500", region="Limburg", languages=("nl", "en"), day_shift=4,
              seed=3500),
)

FEDERATION_NAME = "LETS-federatie (demo)"
FEDERATION_FOLDER = "federation"
# How long the group sites may take to build their demo data and answer.
START_TIMEOUT = 300.0

FEDERATION_CONFIG = '''\
# Written by `lets-site demo --federation`: the federation site of a demo on one machine.
# Only this demo fetches feeds from the loopback network over plain http.
SECURE_COOKIES = False
ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
FEDERATION_ALLOW_HTTP = True
'''


def group_by_slug(slug: str) -> DemoGroup:
    for group in GROUPS:
        if group.slug == slug:
            return group
    raise KeyError(slug)


@dataclass
class Site:
    name: str
    folder: Path
    port: int
    host: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def feed_url(self) -> str:
        return f"{self.url}/feed.json"


def _child_env(folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("LETS_")}
    env["LETS_INSTANCE"] = str(folder)
    # The children run this very copy of lets_site, wherever it was started from.
    source = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start(site: Site, args: list[str]) -> None:
    log = open(site.folder / "demo.log", "wb")  # noqa: SIM115 - the child's own output
    # A session of its own: Ctrl-C reaches this process only, which stops the children.
    site.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lets_site.cli", *args], env=_child_env(site.folder),
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    log.close()


def _wait_for(site: Site, path: str, deadline: float) -> None:
    while True:
        if site.process is not None and site.process.poll() is not None:
            raise RuntimeError(f"{site.name} stopped (exit {site.process.returncode}); "
                               f"see {site.folder / 'demo.log'}")
        try:
            with urllib.request.urlopen(site.url + path, timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{site.name} did not answer on {site.url} in time; "
                               f"see {site.folder / 'demo.log'}")
        time.sleep(0.3)


def _stop(sites: list[Site]) -> None:
    for site in sites:
        if site.process is not None and site.process.poll() is None:
            site.process.terminate()
    for site in sites:
        if site.process is None:
            continue
        try:
            site.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            site.process.kill()
            site.process.wait()


def _build_federation(site: Site) -> None:
    """A fresh database for the federation site, the three feeds registered."""
    from flask_migrate import upgrade

    from lets_site import create_app
    from lets_site.database import write_transaction
    from lets_site.extensions import db
    from lets_site.settings import SiteSettings

    marker = site.folder / DEMO_MARKER
    if (site.folder / "lets.sqlite3").exists() and not marker.exists():
        raise RuntimeError(f"{site.folder} holds a database that is not a demo's; the demo "
                           "will not overwrite it. Use --instance with another folder.")
    marker.write_text("This folder holds a demo database; `lets-site demo` rebuilds it.\n")
    (site.folder / "config.py").write_text(FEDERATION_CONFIG)
    for suffix in ("", "-wal", "-shm"):
        Path(str(site.folder / "lets.sqlite3") + suffix).unlink(missing_ok=True)
    os.environ["LETS_INSTANCE"] = str(site.folder)
    app = create_app({"BASE_URL": site.url, "DATABASE_URL": None})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with write_transaction():
            db.session.add(SiteSettings(id=1, group_name=FEDERATION_NAME,
                                        slug="lets-federatie", locality="Brussel",
                                        region="Brussel", country="BE"))
            db.session.commit()


def _command(site: Site, *args: str) -> str:
    """Run ``lets-site ARGS`` on a site's instance; its output."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lets_site.cli", *args], env=_child_env(site.folder),
        capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"lets-site {' '.join(args)} failed: "
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result.stdout.strip()


def _register_and_fetch(federation: Site, groups: list[Site]) -> str:
    """Follow the groups' feeds and fetch them once, with the same commands an admin uses
    (``lets-site federation add`` and ``fetch``); the fetch's summary."""
    for site in groups:
        _command(federation, "federation", "add", site.name, site.feed_url)
    return _command(federation, "federation", "fetch")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def running(folder: Path, host: str, port: int,
            echo: Callable[[str], None] = print) -> Iterator[list[Site]]:
    """Start the three group sites and the federation site, register the feeds and fetch
    them; yields the sites (the federation last) and stops the children on the way out."""
    # Ctrl+C, or a plain `kill`, stops the children too (also when started in the
    # background, where a shell starts us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    folder.mkdir(parents=True, exist_ok=True)
    groups = []
    for n, group in enumerate(GROUPS, start=1):
        sub = folder / group.locality.lower()
        sub.mkdir(parents=True, exist_ok=True)
        groups.append(Site(group.slug, sub, port + n, host))
    federation = Site(FEDERATION_FOLDER, folder / FEDERATION_FOLDER, port, host)
    federation.folder.mkdir(parents=True, exist_ok=True)
    sites = [*groups, federation]
    try:
        echo("Building the three demo groups (each in its own process) ...")
        for site in groups:
            _start(site, ["demo", "--host", host, "--port", str(site.port),
                          "--instance", str(site.folder), "--group", site.name])
        _build_federation(federation)
        _start(federation, ["run", "--host", host, "--port", str(federation.port),
                            "--no-reload"])
        deadline = time.monotonic() + START_TIMEOUT
        for site in sites:
            _wait_for(site, "/feed.json", deadline)
        echo(_register_and_fetch(federation, groups))
        yield sites
    finally:
        _stop(sites)


def run(folder: Path, host: str, port: int, serve: bool,
        echo: Callable[[str], None] = print) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        # The federation site fetches the groups' feeds at this address, and its config
        # allows the loopback network only.
        raise RuntimeError("The federation demo runs on a loopback address "
                           "(--host 127.0.0.1, the default).")
    with running(folder, host, port, echo) as sites:
        *groups, federation = sites
        echo("")
        for site in groups:
            group = group_by_slug(site.name)
            echo(f"  {group.name:<22} {site.url}/   (feed: {site.feed_url})")
        echo(f"  {FEDERATION_NAME:<22} {federation.url}/")
        echo(f"  Common agenda          {federation.url}/agenda/")
        echo(f"  Followed feeds (admin) {federation.url}/admin/federation")
        echo(f"Instance folders in {folder}; each site's output in its demo.log.")
        if not serve:
            return
        echo("Serving the four sites (Ctrl+C to stop them all)")
        try:
            while all(site.process is not None and site.process.poll() is None
                      for site in sites):
                time.sleep(0.5)
            stopped = [site.name for site in sites
                       if site.process is not None and site.process.poll() is not None]
            echo(f"Stopped: {', '.join(stopped)} ended; stopping the others.")
        except KeyboardInterrupt:
            echo("Stopping the four sites ...")
