"""The ledger's services package keeps its seams: one writer of ledger rows, modules that
import only the ones below them, and the names callers use still on the package."""

from __future__ import annotations

import ast
from pathlib import Path

from lets_site.ledger import services

PACKAGE = Path(services.__file__).resolve().parent
# From the bottom: a module may import only modules listed before it.
LAYERS = ["settings", "amounts", "accounts", "payees", "booking", "payment_requests", "mass",
          "statements", "reports"]


def _tree(name: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))


def test_services_modules_are_the_listed_ones() -> None:
    assert {p.stem for p in PACKAGE.glob("*.py")} == {"__init__", *LAYERS}


def test_services_modules_import_only_lower_ones() -> None:
    wrong = []
    for position, name in enumerate(LAYERS):
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[:3] == ["lets_site", "ledger", "services"]:
                    target = parts[3] if len(parts) > 3 else "__init__"
                    if target not in LAYERS[:position]:
                        wrong.append(f"{name} imports {target}")
            elif isinstance(node, ast.ImportFrom) and node.level:
                wrong.append(f"{name} uses a relative import")
    assert not wrong, wrong


def _writers(name: str) -> set[str]:
    """Functions of a module that create a Transfer or assign an account's balance."""
    found = set()
    for func in ast.walk(_tree(name)):
        if not isinstance(func, ast.FunctionDef):
            continue
        for node in ast.walk(func):
            creates = (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                       and node.func.id == "Transfer")
            assigns = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "balance" for t in node.targets)
            if creates or assigns:
                found.add(f"{name}.{func.name}")
    return found


def test_book_is_the_one_writer_of_ledger_rows() -> None:
    writers = set().union(*(_writers(name) for name in LAYERS))
    assert writers == {"booking._book"}


def test_callers_names_stay_on_the_package() -> None:
    for name in ("pay", "admin_book", "reverse", "request_payment", "confirm_request",
                 "plan_mass", "book_mass", "statement", "statement_rows", "overview",
                 "distribution", "check", "counts", "get_settings", "update_settings",
                 "parse_amount", "format_amount", "find_account", "set_limits",
                 "export_section", "_book", "_stored_account", "_new_uid"):
        assert callable(getattr(services, name)), name
    assert services._book is services.booking._book
    assert services.STATEMENT_PAGE_SIZE == services.statements.STATEMENT_PAGE_SIZE
