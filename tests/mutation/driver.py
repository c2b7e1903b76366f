"""Mutation testing of the rules, one module at a time (``scripts/mutation``).

The modules are listed in ``pyproject.toml`` under ``[tool.lets-mutation.modules]``, one
line each: the files mutmut mutates, optionally which of their functions, and the tests
that run against them. mutmut's own settings are under ``[tool.mutmut]``.

Each module runs in a child process with a fresh ``mutants/`` folder: mutmut copies the
source and the tests there, mutates the module's files, runs the module's tests once to
learn which test reaches which function, then runs each mutant against the tests that
reach it (stopping at the first failure). The tests run on SQLite inside the rolled-back
transaction of ``tests/conftest.py``; the script refuses to start when
``LETS_TEST_DATABASE_URL`` names a database.

A surviving mutant listed in ``tests/mutation/equivalent.toml`` (same function, same
changed lines) counts as equivalent: it cannot change behaviour, and the reason is written
next to it. ``--check`` fails when any other mutant survives (CI).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT_FILE = ROOT / "tests" / "mutation" / "equivalent.toml"
REPORT_DIR = ROOT / "mutants-report"
# Statuses mutmut reports; "timeout" counts as killed (the tests noticed something).
KILLED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Module:
    name: str
    mutate: list[str]
    tests: list[str]
    functions: list[str] = field(default_factory=list)

    def mutant_globs(self) -> list[str]:
        """mutmut's names for the mutants of this module's chosen functions (top-level
        functions are ``pkg.mod.x_name__mutmut_N``, methods ``pkg.mod.xǁClassǁname...``)."""
        globs = []
        for path in self.mutate:
            dotted = path.removesuffix(".py").replace("/", ".")
            if not self.functions:
                globs.append(f"{dotted}.*")
            for name in self.functions:
                globs.append(f"{dotted}.x_{name}__mutmut_*")
                globs.append(f"{dotted}.xǁ*ǁ{name}__mutmut_*")
        return globs

    def existing_tests(self) -> list[str]:
        """The module's test paths that exist (a file another branch adds may not yet)."""
        found = [t for t in self.tests if (ROOT / t).exists()]
        for missing in sorted(set(self.tests) - set(found)):
            print(f"scripts/mutation: {self.name}: no {missing}, left out", file=sys.stderr)
        return found

    def selects(self, mutant: str) -> bool:
        return any(fnmatch.fnmatchcase(mutant, g) for g in self.mutant_globs())

    def narrowed(self, functions: list[str]) -> Module:
        """The module cut to some of its functions (``--functions``: finish a run that was
        stopped at its time limit, or run again what a new test covers)."""
        if self.functions:
            unknown = sorted(set(functions) - set(self.functions))
            if unknown:
                raise SystemExit(f"{self.name} does not mutate {', '.join(unknown)}; "
                                 f"it mutates {', '.join(self.functions)}")
        return Module(self.name, self.mutate, self.tests, list(functions))


def load_modules(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, Module]:
    table = tomllib.loads(pyproject.read_text("utf-8"))["tool"]["lets-mutation"]["modules"]
    return {name: Module(name=name, mutate=list(spec["mutate"]), tests=list(spec["tests"]),
                         functions=list(spec.get("functions", [])))
            for name, spec in table.items()}


def function_of(mutant: str) -> str:
    """``lets_site.x.x_pay__mutmut_12`` -> ``lets_site.x.x_pay``."""
    return mutant.rsplit("__mutmut_", 1)[0]


def changed_lines(diff: str) -> str:
    """The removed and added lines of a unified diff, stripped of indentation: what the
    mutant changed, independent of line numbers and of mutmut's numbering."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line[:1] in "-+" and line[1:].strip():
            lines.append(line[0] + " " + line[1:].strip())
    return "\n".join(lines)


@dataclass(frozen=True)
class Equivalent:
    function: str
    change: str
    reason: str


def load_equivalents(path: Path = EQUIVALENT_FILE) -> list[Equivalent]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text("utf-8"))
    found = []
    for entry in data.get("mutant", []):
        reason = entry.get("reason", "").strip()
        if not reason:
            raise SystemExit(f"{path}: every equivalent mutant needs a reason ({entry})")
        found.append(Equivalent(entry["function"], entry["change"].strip(), reason))
    return found


def is_equivalent(mutant: str, diff: str, equivalents: list[Equivalent]) -> Equivalent | None:
    change = changed_lines(diff)
    function = function_of(mutant)
    for eq in equivalents:
        if eq.function == function and eq.change == change:
            return eq
    return None


@dataclass
class Summary:
    module: str
    counts: Counter[str]
    survivors: list[dict[str, str]]
    seconds: float
    complete: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def accounted(self) -> int:
        """Mutants killed, equivalent or survived: the rest were not run (or crashed)."""
        return sum(self.counts[s] for s in KILLED) + self.counts["equivalent"] + \
            self.counts["survived"]

    def row(self) -> str:
        c = self.counts
        killed = sum(c[s] for s in KILLED)
        other = self.total - self.accounted()
        extra = f", {other} not run" if other else ""
        done = "" if self.complete else " (stopped at the time limit)"
        timed_out = f" ({c['timeout']} timed out)" if c["timeout"] else ""
        return (f"{self.module}: {self.total} mutants, {killed} killed{timed_out}, "
                f"{c['equivalent']} equivalent, {c['survived']} survived{extra}; "
                f"{self.seconds:.0f} s{done}")


# --- The child: one module, in-process mutmut ----------------------------------------------


def limit_to_module(module: Module, source_paths: list[Path],
                    also_copy: list[Path]) -> tuple[list[Path], list[Path]]:
    """mutmut's ``source_paths`` and ``also_copy`` for one module's run.

    mutmut walks every ``.py`` file under ``source_paths`` when it generates mutants (and
    again whenever it looks for the mutated files); ``only_mutate`` only decides which of
    them it mutates. A module's run walks its own files only: the packages of
    ``[tool.mutmut] source_paths`` are copied as they are (``also_copy``), then the
    module's files are mutated in the copy.
    """
    files = [Path(path) for path in module.mutate]
    return files, [*source_paths, *(p for p in also_copy if p not in source_paths)]


def _configure(module: Module) -> Any:
    """mutmut's configuration for one module (in the child that runs or reads it)."""
    from mutmut import configuration

    cfg = configuration.config()
    cfg.only_mutate = list(module.mutate)
    cfg.source_paths, cfg.also_copy = limit_to_module(module, cfg.source_paths,
                                                      cfg.also_copy)
    cfg.resolved_mutated_source_paths = [ROOT / "mutants" / p for p in cfg.source_paths]
    return cfg


def _child(module: Module, max_children: int) -> None:
    """Runs in a process of its own, at the project root."""
    cfg = _configure(module)
    cfg.pytest_add_cli_args_test_selection = module.existing_tests()
    from mutmut.__main__ import _run

    root = os.getcwd()
    _run(module.mutant_globs(), max_children)
    os.chdir(root)


def _collect(module: Module) -> tuple[Counter[str], list[dict[str, str]]]:
    """Read mutmut's results for the module from mutants/ (run at the project root)."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    _configure(module)
    equivalents = load_equivalents()
    counts: Counter[str] = Counter()
    survivors = []
    for path in module.mutate:
        data = SourceFileMutationData(path=Path(path))
        data.load()
        for name, code in sorted(data.exit_code_by_key.items()):
            if not module.selects(name):
                continue
            status = status_by_exit_code[code]
            if status in KILLED:
                counts[status] += 1
                continue
            if status in ("survived", "no tests"):
                diff = get_diff_for_mutant(name, path=Path(path))
                if is_equivalent(name, diff, equivalents):
                    counts["equivalent"] += 1
                    continue
                counts["survived"] += 1
                survivors.append({"mutant": name, "status": status,
                                  "function": function_of(name),
                                  "change": changed_lines(diff), "diff": diff})
                continue
            counts["not run" if status == "not checked" else status] += 1
    return counts, survivors


def _run_module(module: Module, args: argparse.Namespace) -> Summary:
    mutants = ROOT / "mutants"
    shutil.rmtree(mutants, ignore_errors=True)
    started = time.monotonic()
    cmd = [sys.executable, "-m", "tests.mutation.driver", "--child", module.name,
           "--max-children", str(args.max_children), *_functions_args(module, args)]
    log = REPORT_DIR / f"{module.name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=_child_env())
        complete = True
        try:
            proc.wait(timeout=args.time_limit)
        except subprocess.TimeoutExpired:
            complete = False
        finally:
            # At the time limit, or when this script is stopped: stop mutmut and its workers.
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    seconds = time.monotonic() - started
    untested = "could not find any test case for any mutant" in log.read_text()
    if complete and proc.returncode != 0 and not untested:
        print(log.read_text()[-4000:], file=sys.stderr)
        raise SystemExit(f"mutmut failed on {module.name} (exit {proc.returncode}); see {log}")
    if untested:  # mutmut stops: then every mutant of the module lives
        print(f"scripts/mutation: no selected test reaches {module.name}", file=sys.stderr)
    # Read the results in another child: mutmut's modules keep global state.
    out_json = REPORT_DIR / f"{module.name}.json"
    subprocess.run([sys.executable, "-m", "tests.mutation.driver", "--collect", module.name,
                    "--output", str(out_json), *_functions_args(module, args)],
                   cwd=ROOT, check=True, env=_child_env())
    data = json.loads(out_json.read_text())
    summary = Summary(module.name, Counter(data["counts"]), data["survivors"], seconds,
                      complete)
    data.update(seconds=round(seconds, 1), complete=complete)
    out_json.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return summary


def _functions_args(module: Module, args: argparse.Namespace) -> list[str]:
    return ["--functions", ",".join(module.functions)] if args.functions else []


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LETS_TEST_DATABASE_URL", None)
    return env


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    modules = load_modules()
    parser = argparse.ArgumentParser(
        prog="scripts/mutation",
        description="Mutation testing of the rules (mutmut), one module at a time, on SQLite.")
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"one or more of: {', '.join(modules)}; or 'all' (the default)")
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    parser.add_argument("--max-children", type=int, default=1,
                        help="mutants tested at once (default 1: the machine is shared)")
    parser.add_argument("--time-limit", type=float, default=1800,
                        help="seconds per module before the run is stopped (default 1800)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a mutant survives that is not listed as equivalent, "
                             "or if the run was stopped at the time limit")
    parser.add_argument("--functions", type=lambda v: [f for f in v.split(",") if f],
                        help="only these functions of the module (comma-separated), e.g. "
                             "those a run stopped at its time limit did not reach")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--collect", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if os.environ.get("LETS_TEST_DATABASE_URL"):
        print("scripts/mutation runs on SQLite only: it refuses to run while "
              "LETS_TEST_DATABASE_URL names a database (unset it).", file=sys.stderr)
        return 2
    # Stopped from outside (CI's timeout, kill): end the mutmut run too (finally above).
    signal.signal(signal.SIGTERM, _stop)
    os.chdir(ROOT)

    def pick(name: str) -> Module:
        return modules[name].narrowed(args.functions) if args.functions else modules[name]

    if args.child:
        _child(pick(args.child), args.max_children)
        return 0
    if args.collect:
        counts, survivors = _collect(pick(args.collect))
        Path(args.output).write_text(json.dumps(
            {"module": args.collect, "counts": counts, "survivors": survivors},
            indent=2, ensure_ascii=False))
        return 0
    if args.list:
        for m in modules.values():
            what = f" ({', '.join(m.functions)})" if m.functions else ""
            print(f"{m.name}: {' '.join(m.mutate)}{what}\n    tests: {' '.join(m.tests)}")
        return 0

    names = args.modules or ["all"]
    if "all" in names:
        names = list(modules)
    unknown = [n for n in names if n not in modules]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; known: {', '.join(modules)}")

    REPORT_DIR.mkdir(exist_ok=True)
    summaries = []
    for name in names:
        print(f"== {name}", flush=True)
        summary = _run_module(pick(name), args)
        summaries.append(summary)
        for s in summary.survivors:
            print(f"survived: {s['mutant']} ({s['status']})\n{s['diff']}\n", flush=True)
        print(summary.row(), flush=True)
    print("\n" + "\n".join(s.row() for s in summaries))
    if args.check:
        failed = [s for s in summaries
                  if s.survivors or not s.complete or s.total > s.accounted()]
        if failed:
            print("FAILED: a mutant survived that is not listed in "
                  "tests/mutation/equivalent.toml, or a run did not test every mutant: "
                  + ", ".join(s.module for s in failed), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
