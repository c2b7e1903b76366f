"""Page-weight budgets (see docs/performance.md), measured on the real responses.

- First view of any page a role can see: HTML + CSS at most 14 KB compressed, so it
  arrives in the first round trip of a cold connection.
- The same with htmx (and any other script or image the page loads): at most 35 KB.
- An htmx partial with a page of 20 members: at most 4 KB compressed.

Sizes are the bodies compressed with gzip at level 6 (what the app sends: Flask-Compress's
default level); the test also checks that the app really sends them compressed. Pages
come from the route tables (tests/<feature>/access.py, gathered in test_routes.TABLE), so a
new page is measured as soon as it is listed there.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from tests import factories
from tests.conftest import ROLES
from tests.test_routes import TABLE, fill

KB = 1024
FIRST_VIEW_BUDGET = 14 * KB
TOTAL_BUDGET = 35 * KB
PARTIAL_BUDGET = 4 * KB

# Realistic names: long Flemish and French names make fuller lists than "Member 7".
NAMES = [
    "Annelies Vandenberghe", "Marie-Christine Vanderhaeghen", "Jean-Baptiste Dewaele",
    "Griet Vanhoutte", "Séverine Lefebvre", "Pieter-Jan Verschaeve", "Françoise Delvaux",
    "Koenraad Demeulenaere", "Hélène Vancoillie", "Bart Vanneste", "Mathilde Desmet",
    "Wouter Vandamme", "Élodie Vercruysse", "Geert Lannoo", "Brigitte Vanlerberghe",
    "Thibault Deprez", "Sofie Vandewalle", "Amélie Beernaert", "Joris Devriendt",
    "Lieve Vanthournout", "Benoît Dumortier",
]


def gz_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6, mtime=0))


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stylesheets: list[str] = []
        self.others: list[str] = []  # scripts and images

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.stylesheets.append(a["href"] or "")
        elif tag in ("script", "img") and a.get("src") and a.get("loading") != "lazy":
            self.others.append(a["src"] or "")


def fetch(client: Any, url: str, **headers: str) -> Any:
    response = client.get(url, headers={"Accept-Encoding": "gzip", **headers})
    assert response.status_code == 200, (url, response.status_code)
    return response


def decoded(response: Any) -> bytes:
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        return gzip.decompress(body)
    return body


@pytest.fixture
def group(people: dict[str, Any]) -> dict[str, Any]:
    """The role fixtures plus enough members for a full first directory page."""
    for n, name in enumerate(NAMES):
        factories.make_member(display_name=name, full_name=name,
                              postcode=("8900", "8970", "8906", "8920")[n % 4])
    return people


@pytest.mark.parametrize("role", ROLES)
def test_every_page_first_view_fits_the_budget(
    client: Any, group: dict[str, Any], login_as: Any, role: str
) -> None:
    login_as(role)
    pages = [t for t, statuses in sorted(TABLE.routes.items()) if statuses[role] == 200]
    assert pages, f"no page for {role}"
    asset_sizes: dict[str, int] = {}
    over: list[str] = []
    measured = 0
    for template in pages:
        response = fetch(client, fill(TABLE, template, group))
        if response.mimetype != "text/html":
            continue  # downloads (the JSON data export) are not pages
        assert response.headers.get("Content-Encoding") == "gzip", f"{template} not compressed"
        html = decoded(response)
        resources = _Resources()
        resources.feed(html.decode())
        assert resources.stylesheets, f"{template} has no stylesheet"
        for url in resources.stylesheets + resources.others:
            if url not in asset_sizes:
                asset = fetch(client, url)
                # Text is gzipped; a JPEG (photos, logos, covers) is compressed already.
                if (asset.content_length and asset.content_length >= 256
                        and not asset.mimetype.startswith("image/")):
                    assert asset.headers.get("Content-Encoding") == "gzip", f"{url} not gzipped"
                asset_sizes[url] = gz_size(decoded(asset))
        first_view = gz_size(html) + sum(asset_sizes[u] for u in resources.stylesheets)
        total = first_view + sum(asset_sizes[u] for u in resources.others)
        measured += 1
        if first_view > FIRST_VIEW_BUDGET:
            over.append(f"{template}: HTML + CSS {first_view} B > {FIRST_VIEW_BUDGET} B")
        if total > TOTAL_BUDGET:
            over.append(f"{template}: with scripts {total} B > {TOTAL_BUDGET} B")
    assert measured, f"no HTML page measured for {role}"
    assert not over, f"over budget as {role}:\n" + "\n".join(over)


@pytest.mark.parametrize(("role", "url"), [
    ("member", "/members/"),
    ("admin", "/admin/members/"),
])
def test_directory_partial_of_twenty_members_fits_the_budget(
    client: Any, group: dict[str, Any], login_as: Any, role: str, url: str
) -> None:
    login_as(role)
    response = fetch(client, url, **{"HX-Request": "true"})
    body = decoded(response).decode()
    assert body.lstrip().startswith('<section id="member-list"'), "not the partial"
    assert "<html" not in body
    rows = len(re.findall(r"<li>|<tr><td>", body))
    assert rows == 20, f"expected a full page of 20 members, got {rows}"
    size = gz_size(body.encode())
    assert size <= PARTIAL_BUDGET, f"{url} partial: {size} B > {PARTIAL_BUDGET} B"
