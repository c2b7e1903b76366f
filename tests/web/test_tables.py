"""Every table goes through the one responsive table pattern (templates/_macros/tables.html,
docs/architecture.md): a template that writes its own <table> would scroll the page
sideways on a phone. In the stacked layout every cell names its column (data-label)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MACRO = ROOT / "templates" / "_macros" / "tables.html"
TEMPLATES = [path for folder in (ROOT / "templates", ROOT / "tests" / "sample")
             for path in folder.rglob("*.html") if path != MACRO]
CALL = re.compile(r"{%\s*call table\((?P<args>[^%]*)\)\s*%}(?P<body>.*?){%\s*endcall\s*%}",
                  re.S)


def test_no_template_writes_its_own_table() -> None:
    assert len(TEMPLATES) > 20
    own = [str(path.relative_to(ROOT)) for path in TEMPLATES if "<table" in path.read_text()]
    assert own == [], "use {% call table(...) %} from _macros/tables.html"


def test_stacked_tables_label_every_cell_and_scope_every_heading() -> None:
    problems = []
    calls = 0
    for path in TEMPLATES:
        for call in CALL.finditer(path.read_text()):
            calls += 1
            body = call.group("body")
            name = f"{path.relative_to(ROOT)}: table({call.group('args')[:30]}...)"
            if re.search(r"<th\b(?![^>]*scope=)", body):
                problems.append(f"{name}: a <th> without scope")
            if '"scroll"' in call.group("args"):
                continue
            for attrs, content in re.findall(r"<td\b([^>]*)>(.*?)</td>", body, re.S):
                # A cell that spans the row ("nothing yet") or is empty needs no label.
                if content.strip() and "data-label" not in attrs and "colspan" not in attrs:
                    problems.append(f"{name}: <td{attrs}> has no data-label")
    assert calls >= 12
    assert problems == []
