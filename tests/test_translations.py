"""Every UI string is translated into Dutch and French, and the compiled catalogs are
current. English is the source language: its catalog leaves msgstr empty (gettext then
shows the English msgid) and must hold every message too."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "lets_site" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _strings(value: object) -> list[str]:
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return [str(value)] if value else []


@pytest.fixture(scope="module")
def source_ids(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
         "-F", str(ROOT / "babel.cfg"), "-k", "_l", "--no-location", "--ignore-dirs", ".*",
         "-o", str(pot), str(ROOT)],
        check=True, cwd=ROOT, timeout=120,
    )
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_catalog_holds_every_message_of_the_source(lang: str, source_ids: set[str]) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(lang) if m.id}
    missing = source_ids - ids
    assert not missing, f"run `lets-site translate update`: {sorted(missing)[:10]}"


@pytest.mark.parametrize("lang", ["nl", "fr"])
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    problems = []
    for message in _catalog(lang):
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(("fuzzy", message.id))
            continue
        translations = _strings(message.string)
        if not translations or not all(t.strip() for t in translations):
            problems.append(("untranslated", message.id))
            continue
        expected = set(PLACEHOLDER.findall(" ".join(_strings(message.id))))
        for text in translations:
            found = set(PLACEHOLDER.findall(text))
            # A singular form may leave out the count ("één lid"); names must stay.
            if not found <= expected or (expected - {"num", "n"}) - found:
                problems.append(("placeholders", message.id))
    assert not problems, problems[:10]


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_compiled_catalog_matches_the_po_file(lang: str) -> None:
    mo_path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
    assert mo_path.exists(), "run `lets-site translate compile`"
    compiled = read_mo(io.BytesIO(mo_path.read_bytes()))
    po = _catalog(lang)
    expected = {_key(m.id): _key(m.string) for m in po
                if m.id and all(_strings(m.string)) and _strings(m.string) and not m.fuzzy}
    # Compiling fills untranslated English plurals with their msgid; those are not
    # translations of their own.
    got = {
        _key(m.id): _key(m.string)
        for m in compiled
        if m.id and (_key(m.id) in expected or _key(m.id) != _key(m.string))
    }
    assert got == expected, "run `lets-site translate compile`"
