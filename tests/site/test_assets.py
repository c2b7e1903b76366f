from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from lets_site.config import PROJECT_ROOT

HTMX = PROJECT_ROOT / "static" / "vendor" / "htmx-2.0.11.min.js"


def test_vendored_htmx_matches_its_recorded_checksum() -> None:
    readme = (PROJECT_ROOT / "static" / "vendor" / "README.md").read_text()
    digest = hashlib.sha256(HTMX.read_bytes()).hexdigest()
    assert digest in readme
    assert b"htmx" in HTMX.read_bytes()[:2000]


def test_static_urls_carry_a_content_hash_and_are_cached_for_a_year(client: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/site\.css\?v=([0-9a-f]{12}))"', page)
    assert css, "stylesheet link with a content hash"
    expected = hashlib.sha256(Path(PROJECT_ROOT / "static/css/site.css").read_bytes()).hexdigest()
    assert css.group(2) == expected[:12]
    with client.get(css.group(1)) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get("/static/css/site.css?v=000000000000") as stale:
        assert "immutable" not in stale.headers["Cache-Control"]


def test_static_files_are_compressed(client: Any) -> None:
    with client.get("/static/vendor/htmx-2.0.11.min.js",
                    headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert len(response.data) < HTMX.stat().st_size / 2


def test_no_page_loads_anything_from_another_host(client: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', page)
