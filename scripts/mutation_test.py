"""Mutation testing: does the suite fail when the code is wrong?

Each *mutant* is one small change to one line of the package (a ``>`` made ``>=``, a
constant off by one, a statement dropped). For every mutant the script changes a temporary
COPY of the repository (never the working tree), runs the test files named for it and
records whether they failed (the mutant is *caught*) or passed (it *survived*: no test
notices that line being wrong). A survivor is either equivalent (the change alters no
behaviour: say why in its ``equivalent`` field) or a missing test.

Usage (from the repository root; each mutant runs its tests, so this takes minutes and is
not part of CI)::

    nice -n 10 python scripts/mutation_test.py                  # every mutant in mutations.toml
    nice -n 10 python scripts/mutation_test.py --only guard     # ids or files containing "guard"
    python scripts/mutation_test.py --list                      # the mutants, nothing run
    nice -n 10 python scripts/mutation_test.py --generate src/deblurgan/serve/guard.py \\
        --tests tests/serve/test_guard.py --max 25              # automatic mutants of a module
    python scripts/mutation_test.py --generate MODULE --tests T --write new.toml  # to curate

The list (``scripts/mutations.toml``) holds ``[[mutant]]`` tables: ``id``, ``file``,
``original`` (text found exactly once in the file; or once in line ``line``; or its
``occurrence``-th appearance), ``replacement``, ``tests`` (test files or folders; a module
path runs its doctests), ``why`` (what the mutant breaks) and optionally ``equivalent`` (why
it changes nothing: then it is left out of the score).

``--generate`` makes mutants of a module by rule: flip comparisons (``<``/``<=``,
``==``/``!=``), swap ``+``/``-`` and ``and``/``or``, negate ``True``/``False`` and the
condition of ``if``/``while``/``assert``, add one to integer constants, double float
constants (0.0 becomes 1.0), and replace a one-line statement with ``pass``; ``--max`` keeps
a random sample (``--seed``) of them, in line order. A line ending in
``# pragma: no mutate`` is never mutated.

The copy is the last commit (``git archive HEAD``; ``--worktree`` copies the working tree
instead, uncommitted edits included). The tests run as ``python -m pytest -x -q -m "slow or
not slow"`` with the copy's ``src`` first on ``PYTHONPATH`` and no bytecode written (a
same-size edit within a second could otherwise run a stale ``.pyc``). First every distinct
set of tests runs once unmutated: a set that fails there makes its mutants ``baseline
fails`` (not scored). Each mutant's time limit is five times its baseline (at least 60 s);
a mutant that runs past it counts as caught (``timeout``: it hangs or slows the code). A
baseline that fails runs once more; a test that then passes is *flaky*, and a mutant that
fails only there is run again and counts as caught only if it fails again
(``--pytest-args "--deselect TEST"`` leaves such a test out altogether).

Printed: a table (mutant, outcome, seconds, the first failing test) and the score,
caught / (caught + survived), then every survivor with its ``why``. Exit status: 0 when no
mutant survived, 1 when one did, 2 on bad usage. ``--json FILE`` saves the results.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import io
import json
import keyword
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Collection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MUTATIONS = Path(__file__).with_name("mutations.toml")
NO_MUTATE = "# pragma: no mutate"
PYTEST = ["-m", "pytest", "-x", "-q", "-m", "slow or not slow", "-p", "no:cacheprovider"]
SCORED = ("caught", "timeout", "survived")


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One single-line change and the tests that should notice it."""

    id: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    why: str = ""
    line: int | None = None
    occurrence: int | None = None
    equivalent: str | None = None


@dataclasses.dataclass
class Result:
    """What running a mutant's tests gave."""

    mutant: Mutant
    outcome: str  # caught, timeout, survived, equivalent, stale, baseline fails, error
    seconds: float = 0.0
    detail: str = ""
    line: int | None = None


class StaleMutant(ValueError):
    """The mutant's original text is not (exactly once) where it should be."""


# --- the list ------------------------------------------------------------------------------


def load_mutants(path: Path) -> list[Mutant]:
    """The ``[[mutant]]`` tables of a TOML file, checked.

    Raises:
        ValueError: A table misses a field, has an unknown one, or a multi-line text.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            sys.exit("reading the mutant list needs Python 3.11 (tomllib) or `pip install tomli`")
    tables = tomllib.loads(path.read_text()).get("mutant", [])
    fields = {f.name for f in dataclasses.fields(Mutant)}
    mutants = []
    for number, table in enumerate(tables, 1):
        unknown = set(table) - fields
        missing = {"id", "file", "original", "replacement", "tests"} - set(table)
        if unknown or missing:
            raise ValueError(f"{path} mutant {number}: unknown {unknown or ''} missing {missing}")
        if "\n" in table["original"] or "\n" in table["replacement"]:
            raise ValueError(f"{path} mutant {table['id']}: mutations are single-line")
        mutants.append(Mutant(**{**table, "tests": tuple(table["tests"])}))
    ids = [m.id for m in mutants]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return mutants


def to_toml(mutants: list[Mutant]) -> str:
    """``mutants`` as ``[[mutant]]`` tables (JSON strings are valid TOML basic strings)."""
    out = []
    for m in mutants:
        out.append("[[mutant]]")
        for field in dataclasses.fields(Mutant):
            value = getattr(m, field.name)
            if value is None:
                continue
            text = json.dumps(list(value) if isinstance(value, tuple) else value)
            out.append(f"{field.name} = {text}")
        out.append("")
    return "\n".join(out)


# --- applying a mutant ---------------------------------------------------------------------


def mutate_text(source: str, mutant: Mutant) -> tuple[str, int]:
    """``source`` with the mutant applied, and the (1-based) line it changed.

    Raises:
        StaleMutant: The original text is missing, or found more than once.
    """
    lines = source.splitlines(keepends=True)
    if mutant.occurrence is not None:  # the n-th time the text appears in the file
        index = -len(mutant.original)
        for _ in range(mutant.occurrence):
            index = source.find(mutant.original, index + len(mutant.original))
            if index < 0:
                raise StaleMutant(f"{mutant.original!r} found fewer than {mutant.occurrence} times")
        mutated = source[:index] + mutant.replacement + source[index + len(mutant.original) :]
        return mutated, source.count("\n", 0, index) + 1
    if mutant.line is not None:
        if not 1 <= mutant.line <= len(lines) or lines[mutant.line - 1].count(mutant.original) != 1:
            raise StaleMutant(f"{mutant.original!r} is not once on line {mutant.line}")
        number = mutant.line
    else:
        found = [i for i, text in enumerate(lines, 1) if mutant.original in text]
        if source.count(mutant.original) != 1:
            raise StaleMutant(f"{mutant.original!r} found {source.count(mutant.original)} times")
        number = found[0]
    lines[number - 1] = lines[number - 1].replace(mutant.original, mutant.replacement)
    return "".join(lines), number


# --- generating mutants --------------------------------------------------------------------

SWAPS = {
    "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==",
    "+": "-", "-": "+", "+=": "-=", "-=": "+=", "*=": "/=", "/=": "*=",
    "and": "or", "or": "and", "True": "False", "False": "True",
}  # fmt: skip
ARITHMETIC = ("+", "-")  # only between operands (not a unary minus or a decorator's -)


def _token_mutants(source: str) -> list[tuple[int, int, str, str, str]]:
    """(line, column, original, replacement, rule) for each operator and constant."""
    found = []
    previous = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        line, col = tok.start
        text = tok.string
        if tok.type in (tokenize.OP, tokenize.NAME) and text in SWAPS:
            binary = previous is not None and (
                previous.type in (tokenize.NUMBER, tokenize.STRING)
                or (previous.type == tokenize.NAME and previous.string not in _KEYWORDS)
                or previous.string in (")", "]", "}")
            )
            if text not in ARITHMETIC or binary:
                found.append((line, col, text, SWAPS[text], f"{text} -> {SWAPS[text]}"))
        elif tok.type == tokenize.NUMBER and re.fullmatch(r"\d+", text):
            found.append((line, col, text, str(int(text) + 1), "integer + 1"))
        elif tok.type == tokenize.NUMBER and re.fullmatch(r"\d*\.\d*(e-?\d+)?|\d+e-?\d+", text):
            found.append((line, col, text, repr(float(text) * 2 or 1.0), "float x 2"))
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            previous = tok
    return found


_KEYWORDS = set(keyword.kwlist) - {"True", "False", "None"}  # a word after which - is unary


def _node_mutants(source: str) -> list[tuple[int, int, str, str, str]]:
    """Negated one-line conditions, and one-line statements replaced by ``pass``."""
    lines = source.splitlines()
    found = []

    def segment(node: ast.AST) -> tuple[int, str] | None:
        if node.lineno != node.end_lineno:
            return None
        raw = lines[node.lineno - 1].encode()
        start = len(raw[: node.col_offset].decode())  # ast counts UTF-8 bytes
        return start, raw[node.col_offset : node.end_col_offset].decode()

    tree = ast.parse(source)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    final_returns = {  # a function's last `return` / `return None`: dropping it changes nothing
        id(node.body[-1])
        for node in ast.walk(tree)
        if isinstance(node, functions)
        and isinstance(last := node.body[-1], ast.Return)
        and getattr(last.value, "value", None) is None  # bare, or a None constant
        and (last.value is None or isinstance(last.value, ast.Constant))
    }
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.While, ast.Assert)) and (seg := segment(node.test)):
            found.append((node.test.lineno, *seg, f"not ({seg[1]})", "negate condition"))
        droppable = (ast.Assign, ast.AugAssign, ast.Return, ast.Raise, ast.Delete, ast.Expr)
        if isinstance(node, droppable) or (isinstance(node, ast.AnnAssign) and node.value):
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if not docstring and id(node) not in final_returns and (seg := segment(node)):
                found.append((node.lineno, *seg, "pass", "drop statement"))
    return found


def generate_mutants(
    path: Path, tests: tuple[str, ...], limit: int, seed: int, worktree: bool = False
) -> list[Mutant]:
    """Mutants of the module at ``path`` (relative to the repository; at HEAD, or in the
    working tree) by the rules above, each one checked to compile; at most ``limit`` of
    them, a random sample by ``seed``."""
    source = read_source(path, worktree)
    lines = source.splitlines(keepends=True)
    mutants, seen = [], set()
    for line, col, original, replacement, rule in _token_mutants(source) + _node_mutants(source):
        text = lines[line - 1]
        if text.rstrip().endswith(NO_MUTATE) or text.lstrip().startswith("#"):
            continue
        mutated = text[:col] + replacement + text[col + len(original) :]
        if (line, mutated) in seen or text.count(original) != 1:
            continue  # the same change twice, or one the list format cannot place
        try:
            compile("".join(lines[: line - 1] + [mutated] + lines[line:]), str(path), "exec")
        except SyntaxError:
            continue
        seen.add((line, mutated))
        name = f"{path.stem}:{line}:{rule}"
        name += f"@{col}" if any(m.id == name for m in mutants) else ""
        mutants.append(Mutant(name, str(path), original, replacement, tests, rule, line))
    if len(mutants) > limit:
        mutants = random.Random(seed).sample(mutants, limit)
    return sorted(mutants, key=lambda m: (m.line or 0, m.id))


def read_source(path: str | Path, worktree: bool) -> str:
    """The text of ``path`` (relative to the repository) as the copy will have it: at HEAD,
    or in the working tree.

    Raises:
        OSError, subprocess.CalledProcessError: No such file there.
    """
    if worktree:
        return (REPO / path).read_text()
    return subprocess.run(
        ["git", "show", f"HEAD:{Path(path).as_posix()}"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def _applies(mutant: Mutant, worktree: bool) -> str:
    """Why ``mutant`` does not apply to its file (at HEAD, or in the working tree); empty
    when it does."""
    try:
        mutate_text(read_source(mutant.file, worktree), mutant)
    except (OSError, subprocess.CalledProcessError) as err:
        return f"STALE: cannot read {mutant.file} ({err})"
    except StaleMutant as err:
        return f"STALE: {err}"
    return ""


# --- running -------------------------------------------------------------------------------


def make_copy(destination: Path, worktree: bool) -> Path:
    """A copy of the repository (HEAD, or the working tree's files) in ``destination``, with
    ``../shared`` linked beside it as in the real checkout."""
    copy = destination / REPO.name
    copy.mkdir(parents=True)
    if worktree:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard"],
            cwd=REPO, check=True, capture_output=True,
        ).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, listed):
            if (REPO / name).is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, copy / name)
    else:
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=REPO, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
    if (REPO.parent / "shared").exists():
        (destination / "shared").symlink_to(REPO.parent / "shared")
    return copy


def run_tests(
    copy: Path, tests: tuple[str, ...], limit: float, extra: tuple[str, ...] = ()
) -> tuple[str, float, str]:
    """Run ``tests`` in ``copy`` (``extra``: more pytest arguments): ("passed" | "failed" |
    "timeout" | "error", seconds, the first failing test or the end of the output)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(copy / "src"), os.environ.get("PYTHONPATH", "")]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, *PYTEST, *extra, *tests], cwd=copy, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # pytest and anything it started
        process.communicate()
        return "timeout", time.monotonic() - start, f"over {limit:.0f} s"
    seconds = time.monotonic() - start
    failing = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
    if process.returncode == 0:
        return "passed", seconds, ""
    if process.returncode in (1, 2) and failing:  # 2: a collection (import) error
        return "failed", seconds, failing.group(1)
    return "error", seconds, output.strip().splitlines()[-1] if output.strip() else "no output"


def run_mutant(
    copy: Path,
    mutant: Mutant,
    limit: float,
    extra: tuple[str, ...] = (),
    flaky: Collection[str] = (),
) -> Result:
    """Apply ``mutant`` to the copy, run its tests, and put the file back. A failure in a
    test that was ``flaky`` in the baseline is run again: caught only if it fails again."""
    path = copy / mutant.file
    try:
        source = path.read_text()
        mutated, line = mutate_text(source, mutant)
    except (OSError, StaleMutant) as err:
        return Result(mutant, "stale", detail=str(err))
    path.write_text(mutated)
    try:
        status, seconds, detail = run_tests(copy, mutant.tests, limit, extra)
        if status == "failed" and detail in flaky:
            first = detail
            status, again, detail = run_tests(copy, mutant.tests, limit, extra)
            seconds += again
            detail = detail or f"passed when run again ({first} is flaky)"
    finally:
        path.write_text(source)
    if status == "passed":
        outcome = "equivalent" if mutant.equivalent else "survived"
    else:
        outcome = {"failed": "caught", "timeout": "timeout", "error": "error"}[status]
    return Result(mutant, outcome, seconds, detail, line)


def run_all(mutants: list[Mutant], args: argparse.Namespace) -> list[Result]:
    """Baselines first, then every mutant, ``args.jobs`` at a time (one copy each)."""
    with tempfile.TemporaryDirectory(prefix="mutation-", dir=args.scratch) as scratch:
        copies = [make_copy(Path(scratch) / str(i), args.worktree) for i in range(args.jobs)]
        extra = tuple(shlex.split(args.pytest_args or ""))
        baselines: dict[tuple[str, ...], tuple[str, float, str]] = {}
        flaky: set[str] = set()
        if not args.no_baseline:
            for tests in dict.fromkeys(m.tests for m in mutants):
                status, seconds, detail = run_tests(copies[0], tests, args.timeout or 3600, extra)
                if status == "failed":  # once more: a timing test under load may be flaky
                    status, seconds, again = run_tests(copies[0], tests, 3600, extra)
                    if status == "passed":
                        print(f"FLAKY in the baseline: {detail} failed once, then passed")
                        flaky.add(detail)
                    detail = again
                baselines[tests] = status, seconds, detail
                print(f"baseline {' '.join(tests)}: {status} in {seconds:.0f} s {detail}")
        free = list(copies)

        def work(mutant: Mutant) -> Result:
            baseline = baselines.get(mutant.tests, ("passed", 12.0, ""))
            if baseline[0] != "passed":
                return Result(mutant, "baseline fails", detail=baseline[2])
            copy = free.pop()
            try:
                limit = args.timeout or max(60.0, 5 * baseline[1])
                return run_mutant(copy, mutant, limit, extra, flaky)
            finally:
                free.append(copy)

        results = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for result in pool.map(work, mutants):
                print(_row(result), flush=True)
                results.append(result)
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="mutation-copy-", dir=args.scratch))
            shutil.copytree(copies[0], kept / REPO.name, symlinks=True)
            print(f"copy kept in {kept / REPO.name}")
    return results


# --- reporting -----------------------------------------------------------------------------


def _row(result: Result) -> str:
    m = result.mutant
    where = f"{m.file.removeprefix('src/deblurgan/')}:{result.line or '?'}"
    timing = f"{result.outcome:14} {result.seconds:6.1f}"
    return f"{m.id[:44]:44} {where[:34]:34} {timing}  {result.detail}"


def score_line(results: list[Result]) -> str:
    """``score: caught / scored (percent)`` and the counts of what was not scored."""
    outcomes = [r.outcome for r in results]
    counts = {o: outcomes.count(o) for o in dict.fromkeys(outcomes)}
    killed = counts.get("caught", 0) + counts.get("timeout", 0)
    scored = sum(counts.get(o, 0) for o in SCORED)
    percent = f"{100 * killed / scored:.0f}%" if scored else "n/a"
    rest = ", ".join(f"{n} {o}" for o, n in counts.items() if o not in SCORED)
    line = f"score: {killed}/{scored} caught ({percent})"
    return line + (f"; not scored: {rest}" if rest else "")


def report(results: list[Result]) -> None:
    """The table, the score, and each survivor (and equivalent or stale mutant) explained."""
    print(f"\n{'mutant':44} {'where':34} {'outcome':14} {'s':>6}  first failing test")
    for result in results:
        print(_row(result))
    print("\n" + score_line(results))
    for result in results:
        m = result.mutant
        if result.outcome == "survived":
            print(f"SURVIVED {m.id}: {m.original!r} -> {m.replacement!r} ({m.why})")
        elif result.outcome == "equivalent":
            print(f"equivalent {m.id}: {m.equivalent}")
        elif result.outcome in ("stale", "error", "baseline fails"):
            print(f"{result.outcome} {m.id}: {result.detail}")


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module's text)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mutants", type=Path, default=MUTATIONS, help="the TOML list")
    parser.add_argument("--only", action="append", help="ids or files containing this text")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--generate", type=Path, help="make mutants of this module instead")
    parser.add_argument("--tests", nargs="+", help="the tests for --generate's mutants")
    parser.add_argument("--max", type=int, default=30, help="at most this many generated")
    parser.add_argument("--seed", type=int, default=0, help="which generated ones are kept")
    parser.add_argument("--write", type=Path, help="write the generated mutants here (TOML)")
    parser.add_argument("--worktree", action="store_true", help="copy uncommitted edits too")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 5x baseline)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs")
    parser.add_argument("--keep", action="store_true", help="keep a copy of the repository")
    parser.add_argument("--scratch", type=Path, help="where the copies go (default: temp)")
    parser.add_argument("--pytest-args", help='more for pytest, e.g. "--deselect TEST"')
    parser.add_argument("--json", type=Path, help="save the results here")
    args = parser.parse_args(argv)
    if args.generate:
        if not args.tests:
            parser.error("--generate needs --tests")
        mutants = generate_mutants(
            args.generate, tuple(args.tests), args.max, args.seed, args.worktree
        )
        if args.write:
            args.write.write_text(to_toml(mutants))
            print(f"{len(mutants)} mutants written to {args.write}")
            return 0
    else:
        mutants = load_mutants(args.mutants)
    if args.only:
        mutants = [m for m in mutants if any(t in m.id or t in m.file for t in args.only)]
    if not mutants:
        parser.error("no mutants selected")
    if args.list:
        for m in mutants:
            state = _applies(m, args.worktree)
            print(f"{m.id}: {m.file}: {m.original!r} -> {m.replacement!r}  [{' '.join(m.tests)}]")
            if state:
                print(f"    {state}")
        return 0
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    results = run_all(mutants, args)
    report(results)
    if args.json:
        rows = [{**dataclasses.asdict(r.mutant), **dataclasses.asdict(r)} for r in results]
        for row in rows:
            row.pop("mutant")
        args.json.write_text(json.dumps(rows, indent=1))
    return 1 if any(r.outcome == "survived" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
