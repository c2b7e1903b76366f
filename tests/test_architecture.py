"""Who may import what (docs/architecture.md, "Imports"): the base layer imports no
feature, each feature imports only the layers below it, and no service reads the request."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lets_site"
FEATURES = {"audit", "members", "organisations", "ledger", "site", "offers", "partners",
            "events", "books", "content", "feed", "digests", "federation", "notifications",
            "moving"}
# What each feature may import besides the base layer and itself.
ALLOWED = {
    "audit": set(),
    "members": {"audit"},
    "organisations": {"audit", "members"},
    "ledger": {"audit", "members", "organisations"},
    # Events read partners (co-organisers, their page's panel place): docs/architecture.md.
    "events": {"audit", "members", "organisations", "ledger", "partners"},
    # Moving imports the lower layers only: listings reach offers through the export
    # document, which offers' Portable loads (docs/import.md).
    "moving": {"audit", "members", "organisations", "ledger"},
}
LOWER = {"audit", "members", "organisations", "ledger"}
COMPOSITION = {"__init__", "wiring"}  # name the features (wiring by module name only)


def _imports(path: Path) -> set[str]:
    """Top-level units of lets_site imported by this file, outside ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for sub in node.body for n in ast.walk(sub))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "lets_site" and len(parts) > 1:
                found.add(parts[1])
    return found


def _unit(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_features_are_the_listed_ones() -> None:
    from lets_site import wiring

    assert {name.split(".")[1] for name in wiring.FEATURES} == FEATURES


def test_imports_follow_the_layers() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit(path)
        if unit in COMPOSITION:
            continue
        features = (_imports(path) & FEATURES) - {unit}
        # The base layer may import no feature.
        allowed = ALLOWED.get(unit, LOWER) if unit in FEATURES else set()
        if features - allowed:
            wrong.append(f"{path.relative_to(PACKAGE)} imports {sorted(features - allowed)}")
    assert not wrong, wrong


def test_services_never_read_the_request() -> None:
    readers = set()
    # services.py, the modules of a services/ package (ledger), members' auth and mailing
    paths = {*PACKAGE.rglob("services.py"), *PACKAGE.rglob("services/*.py"),
             PACKAGE / "members" / "auth.py", PACKAGE / "members" / "mailing.py"}
    assert PACKAGE / "ledger" / "services" / "booking.py" in paths
    for path in sorted(paths):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = (node.id if isinstance(node, ast.Name)
                    else node.name if isinstance(node, ast.alias) else None)
            if name in ("request", "has_request_context"):
                readers.add(str(path.relative_to(PACKAGE)))
    assert not readers, sorted(readers)
