"""scripts/mutation's own rules: which mutants a module selects, how a survivor is matched
with a listed equivalent, and that it never runs against a database named in the
environment. (The mutation runs themselves take minutes; CI runs one, see .ci/run.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutation import driver

DIFF = """--- lets_site/ledger/services/booking.py
+++ lets_site/ledger/services/booking.py
@@ -1,3 +1,3 @@
 def _book(...):
-    if amount <= 0:
+    if amount <= 1:
         raise DomainError(...)"""


def test_changed_lines_ignore_headers_context_and_indentation() -> None:
    assert driver.changed_lines(DIFF) == "- if amount <= 0:\n+ if amount <= 1:"


def test_a_survivor_matches_an_equivalent_by_function_and_change() -> None:
    eq = driver.Equivalent("lets_site.ledger.services.booking.x__book",
                           "- if amount <= 0:\n+ if amount <= 1:", "reason")
    name = "lets_site.ledger.services.booking.x__book__mutmut_7"
    assert driver.is_equivalent(name, DIFF, [eq]) is eq
    # Renumbered by mutmut after an edit elsewhere in the function: still the same mutant.
    assert driver.is_equivalent(name.replace("_7", "_70"), DIFF, [eq]) is eq
    assert driver.is_equivalent("lets_site.ledger.services.booking.x_pay__mutmut_7", DIFF,
                                [eq]) is None
    assert driver.is_equivalent(name, DIFF.replace("<= 1", "< 0"), [eq]) is None


def test_a_module_selects_the_mutants_of_its_files_and_functions() -> None:
    whole = driver.Module("m", ["lets_site/offers/models.py"], ["tests/offers"])
    assert whole.selects("lets_site.offers.models.xǁListingǁcan_view__mutmut_3")
    assert not whole.selects("lets_site.offers.services.x_publish__mutmut_1")
    some = driver.Module("o", ["lets_site/offers/services.py"], ["tests/offers"],
                         ["publish", "_visible_to"])
    assert some.selects("lets_site.offers.services.x_publish__mutmut_1")
    assert some.selects("lets_site.offers.services.x__visible_to__mutmut_12")
    assert not some.selects("lets_site.offers.services.x_publish_all__mutmut_1")
    assert not some.selects("lets_site.offers.services.x_browse__mutmut_1")


def test_every_configured_module_names_files_and_tests_that_exist() -> None:
    modules = driver.load_modules()
    assert {"ledger-booking", "models", "offers-lifecycle"} <= set(modules)
    for module in modules.values():
        for path in module.mutate + module.tests:
            assert (driver.ROOT / path).exists(), (module.name, path)


def test_every_listed_equivalent_has_a_reason_and_a_module() -> None:
    modules = driver.load_modules().values()
    for eq in driver.load_equivalents():
        assert eq.reason and eq.change
        assert any(m.selects(eq.function + "__mutmut_1") for m in modules), eq.function


def test_an_equivalent_without_a_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "equivalent.toml"
    path.write_text('[[mutant]]\nfunction = "a.x_b"\nchange = "- x\\n+ y"\nreason = " "\n')
    with pytest.raises(SystemExit, match="needs a reason"):
        driver.load_equivalents(path)


def test_it_refuses_to_run_with_a_database_in_the_environment(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LETS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x")
    assert driver.main(["ledger-booking"]) == 2
    assert "SQLite only" in capsys.readouterr().err


def test_a_summary_counts_what_was_not_run() -> None:
    from collections import Counter

    done = driver.Summary("m", Counter(killed=8, timeout=1, equivalent=1), [], 12.0, True)
    assert done.row() == "m: 10 mutants, 9 killed (1 timed out), 1 equivalent, 0 survived; 12 s"
    assert done.accounted() == done.total
    cut = driver.Summary("m", Counter(killed=8, survived=1, **{"not run": 3}), [], 5.0, False)
    assert cut.row() == ("m: 12 mutants, 8 killed, 0 equivalent, 1 survived, 3 not run; 5 s "
                         "(stopped at the time limit)")
    assert cut.accounted() == 9


def test_a_module_run_walks_only_its_own_files_and_copies_the_rest() -> None:
    # mutmut generates mutants for every .py file under source_paths: a module's run
    # hands it the module's files only, and copies the package as it is.
    module = driver.Module("m", ["lets_site/ledger/services/booking.py"], ["tests/ledger"])
    sources, copied = driver.limit_to_module(
        module, [Path("lets_site")], [Path("templates"), Path("tests/")])
    assert sources == [Path("lets_site/ledger/services/booking.py")]
    assert copied == [Path("lets_site"), Path("templates"), Path("tests/")]


def test_mutmut_configured_for_a_module_walks_its_files_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mutmut import configuration
    from mutmut.utils.file_utils import walk_mutatable_files, walk_source_files

    monkeypatch.chdir(driver.ROOT)
    configuration.reset_config()
    try:
        driver._configure(driver.load_modules()["ledger-booking"])
        expected = [Path("lets_site/ledger/services/booking.py")]
        assert list(walk_source_files()) == expected
        assert list(walk_mutatable_files()) == expected
        assert Path("lets_site") in configuration.config().also_copy
    finally:
        configuration.reset_config()


def test_a_module_cut_to_some_functions_selects_only_their_mutants() -> None:
    module = driver.Module("o", ["lets_site/offers/services.py"], ["tests/offers"],
                           ["publish", "withdraw"])
    cut = module.narrowed(["withdraw"])
    assert cut.selects("lets_site.offers.services.x_withdraw__mutmut_3")
    assert not cut.selects("lets_site.offers.services.x_publish__mutmut_3")
    with pytest.raises(SystemExit, match="does not mutate renew"):
        module.narrowed(["renew"])
    # A module of whole files may be cut to any of their functions.
    whole = driver.Module("m", ["lets_site/offers/models.py"], ["tests/offers"])
    assert whole.narrowed(["can_view"]).selects(
        "lets_site.offers.models.xǁListingǁcan_view__mutmut_1")
    assert not whole.narrowed(["can_view"]).selects(
        "lets_site.offers.models.xǁListingǁcan_respond__mutmut_1")
