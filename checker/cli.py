"""The `speccheck` command: argument parsing, wiring, printing, exit codes.

The only module that prints or exits. Exit codes are ``checker.results.ExitCode``:
0 every result as expected, 1 a result against expectation, 2 usage error,
3 specification error, 4 inconclusive, 70 internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections.abc import Sequence

from checker import crash, mutate
from checker.batch import FilePlan, plan_file, select_shard
from checker.cache import Cache, CacheDirError
from checker.discover import discover
from checker.options import ENGINES, LEMMA_SOURCES, CheckOptions
from checker.outcomes import FileOutcome, RunInfo, Shard
from checker.progress import Board, Event
from checker.report import junit, sarif, summary, svg, text, to_json
from checker.results import ExitCode, ModelReport, exit_code
from checker.sweep import render_matrix
from checker.workers import WorkerDied, execute
from spec.diagnostics import SpecError
from spec.diagnostics import render as render_diagnostic

VERSION = "0.1.0"
DEFAULT_CACHE = ".speccheck-cache"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"speccheck: error: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def _define(text_: str) -> tuple[str, str]:
    if "=" not in text_:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text_!r}")
    name, value = text_.split("=", 1)
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{name!r} is not a parameter name")
    return name, value


def _seconds(text_: str) -> float:
    try:
        x = float(text_)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text_!r}") from None
    if not 0 < x <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"{text_} is not a positive number of seconds")
    return x


def _positive(text_: str) -> int:
    try:
        n = int(text_)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text_!r}") from None
    if n < 0 or n > 10_000_000:
        raise argparse.ArgumentTypeError(f"{n} is out of range")
    return n


def certificates_file(reports: list[ModelReport]) -> str:
    """Every certificate: a readable block, then the SMT-LIB term the re-check reads."""
    out = ["; speccheck certificates: inductive invariants over the step-0 state",
           "; constants of the integer encoding (see docs/checking.rst)"]
    for m in reports:
        for r in m.results:
            if r.certificate is None:
                continue
            out.append(f"\n; model {m.model} ({m.file}), property {r.name}, "
                       f"{r.certificate.size} atoms")
            out.extend("; " + line for line in r.certificate.text.splitlines())
            out.append(r.certificate.smt)
    return "\n".join(out) + "\n"


def _write_pictures(path: str, reports: list[ModelReport]) -> bool:
    """--trace-svg: one SVG per counterexample (checker.report.svg); False if one
    could not be written."""
    drawn = svg.pictures(reports)
    if not drawn:
        print(f"speccheck: --trace-svg: no counterexample to draw; {path} not written",
              file=sys.stderr)
    for n, (label, picture) in enumerate(drawn, 1):
        name = svg.numbered(path, n)
        try:
            with open(name, "w", encoding="utf-8") as fh:
                fh.write(picture)
        except OSError as exc:
            print(f"speccheck: cannot write {name}: {exc.strerror}", file=sys.stderr)
            return False
        print(f"speccheck: trace picture {name}: {label}", file=sys.stderr)
    return True


def lemmas_file(reports: list[ModelReport]) -> str:
    """The lemmas --all-sizes found, as declarations of the modeling language."""
    out = []
    for m in reports:
        params = " ".join(f"{n}={v}" for n, v in m.params)
        out.append(f"// Lemmas found by `speccheck --all-sizes` for model {m.model} ({m.file}"
                   + (f"; {params}" if params else "") + ").\n"
                   "// Together with the model's properties they are inductive for every "
                   "size; add them\n// to the model (or `include` this file at its end). "
                   "Steps: at(t, proc, n) as in traces.\n")
        out.extend(f"lemma {name}: {text}\n" for name, text in m.lemmas)
        if not m.lemmas:
            out.append("// (no lemmas: nothing was proved for all sizes, or no lemma was "
                       "needed)\n")
    return "\n".join(out)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="speccheck", description="Check models of CPython's import state: R1 "
                "(shared state under a global lock), R2 (owner-current free/resize), lock "
                "sanity, deadlock freedom, and the model's own invariants.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="model files (.spec), or directories to search for them")
    p.add_argument("-D", dest="defines", action="append", type=_define, default=[],
                   metavar="NAME=VALUE", help="override a model parameter (repeatable)")
    p.add_argument("--engine", choices=ENGINES, default="auto",
                   help="auto (default): explicit search, then BMC for what it could not "
                        "decide, then PDR for what is still open")
    p.add_argument("--depth", type=_positive, default=20, help="BMC bound (default 20)")
    p.add_argument("--max-states", type=_positive, default=200_000,
                   help="explicit search limit (default 200000)")
    p.add_argument("--max-memory", type=_positive, default=4096, metavar="MB",
                   help="memory the explicit search's states may take; beyond it the "
                        "search stops and BMC takes over (default 4096)")
    p.add_argument("--only", action="append", default=[], metavar="PROPERTY",
                   help="check only this property (repeatable)")
    p.add_argument("--seed", type=_positive, default=0, help="solver seed (default 0)")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="overall time limit per model; unfinished properties are unknown")
    p.add_argument("--fail-on-vacuity", action="store_true",
                   help="exit 1 when a step can never fire or an implication is vacuous")
    p.add_argument("--sweep", action="store_true",
                   help="check every combination of the model's boolean and enumeration "
                        "parameters and print the verdict matrix")
    p.add_argument("--witness", metavar="STEP",
                   help="print a shortest trace in which STEP (a step id such as "
                        "cache_set.7, or an action or procedure name) fires")
    p.add_argument("--no-sweep", action="store_true",
                   help="check one configuration even if the model declares `sweep`")
    p.add_argument("--obligation-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="time limit for each solver query (BMC depth, induction "
                        "obligation, PDR property); unfinished ones are unknown")
    p.add_argument("--json", metavar="FILE", help="write the JSON report to FILE ('-' = stdout)")
    p.add_argument("--junit", metavar="FILE",
                   help="write JUnit XML to FILE: one test case per property and configuration")
    p.add_argument("--sarif", metavar="FILE",
                   help="write SARIF 2.1.0 to FILE: unexpected violations at the violated "
                        "check, with the trace as a code flow")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, metavar="N",
                   help="check N configurations at once in worker processes ('auto': one "
                        "per CPU); the output is the same as with -j 1")
    p.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="check only the I-th of N stable slices of the run (for CI matrices)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help=f"result cache directory (default {DEFAULT_CACHE} when checking a "
                        "directory or several files)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--recheck-cached", action="store_true",
                   help="re-validate cached proofs through their certificates (cached "
                        "counterexamples are always replayed)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress line on standard error (shown only on a terminal)")
    p.add_argument("--certificate", metavar="FILE",
                   help="save the certificates (re-checked inductive invariants) of all "
                        "proofs to FILE")
    p.add_argument("--all-sizes", action="store_true",
                   help="also prove each property for any number of interpreters, threads "
                        "and other parameter-sized sorts (lemmas found automatically; "
                        "'proved for all sizes' only in a decidable fragment)")
    p.add_argument("--lemmas-from", choices=sorted(LEMMA_SOURCES), default="both",
                   help="where --all-sizes finds candidate lemmas: states sampled from small "
                        "instances, PDR certificates of a small instance generalised, both "
                        "(default), or none (only the model's own lemmas)")
    p.add_argument("--emit-lemmas", metavar="FILE",
                   help="write the lemmas --all-sizes found as `lemma` declarations to FILE "
                        "(implies --all-sizes)")
    p.add_argument("--no-certificates", action="store_true",
                   help="skip mining certificates for explicit proofs (faster; the proofs "
                        "stand on the exhaustive search alone)")
    p.add_argument("--show-certificates", action="store_true",
                   help="print the certificates (re-checked inductive invariants) of all "
                        "proofs")
    p.add_argument("--trace-svg", metavar="FILE",
                   help="draw the first counterexample as an SVG sequence diagram in FILE; "
                        "further ones go to FILE-2.svg, FILE-3.svg, ...")
    p.add_argument("--no-color", action="store_true", help="never use colors")
    p.add_argument("--timings", action="store_true", help="print run times")
    p.add_argument("--version", action="version", version=f"speccheck {VERSION}")
    return p


def _jobs(text_: str) -> int:
    if text_ == "auto":
        return max(1, os.cpu_count() or 1)
    try:
        n = int(text_)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text_!r}") from None
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"{n} is not between 1 and 256")
    return n


def _shard(text_: str) -> Shard:
    index, _, count = text_.partition("/")
    if not (index.isdigit() and count.isdigit()):
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/4, got {text_!r}")
    shard = Shard(int(index), int(count))
    if not 1 <= shard.index <= shard.count <= 10_000:
        raise argparse.ArgumentTypeError(f"{text_}: I must be between 1 and N (N <= 10000)")
    return shard


class _StatusLine:
    """The progress line on a terminal's standard error, redrawn at most 10 times a
    second and wiped before anything else is printed."""

    def __init__(self, total: int) -> None:
        self.board = Board(total)
        self.lock = threading.Lock()
        self.shown = False
        self.last = 0.0

    def event(self, e: Event) -> None:
        with self.lock:
            self.board.update(e)
            now = time.monotonic()
            if e.stage != "done" and now - self.last < 0.1:
                return
            self.last = now
            try:  # the terminal is standard error's; standard output may be a file
                width = os.get_terminal_size(sys.stderr.fileno()).columns - 1
            except OSError:
                width = 79
            sys.stderr.write("\r\x1b[K" + self.board.line(width))
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
                self.shown = False


def _cache(args: argparse.Namespace, many: bool) -> Cache | None:
    """The cache a run uses: on by default for runs over a directory or several files;
    an explicit --cache-dir that cannot be written is a usage error."""
    if args.no_cache or not (many or args.cache_dir or args.recheck_cached):
        return None
    try:
        return Cache.open(args.cache_dir or DEFAULT_CACHE)
    except CacheDirError as exc:
        if args.cache_dir:
            print(f"speccheck: error: --cache-dir {exc}", file=sys.stderr)
            raise SystemExit(ExitCode.USAGE) from None
        print(f"speccheck: warning: the result cache is off: cannot write {exc}",
              file=sys.stderr)
        return None


def _check_all(args: argparse.Namespace, options: CheckOptions, color: bool
               ) -> tuple[list[ModelReport], RunInfo, bool]:
    """Plan, run and print every file's report; (reports, the run, any spec error)."""
    found = discover(args.files)
    many = len(found.files) > 1 or any(os.path.isdir(p) for p in args.files)
    store = _cache(args, many)
    plans = [FilePlan(path, None, (), diags) for path, diags in found.errors]
    plans += [plan_file(f, options, sweep_all=args.sweep, no_sweep=args.no_sweep)
              for f in found.files]
    plans = select_shard(plans, args.shard)
    status = None
    if not args.no_progress and sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
        status = _StatusLine(sum(len(p.tasks) for p in plans))
    reports: list[ModelReport] = []
    files: list[FileOutcome] = []
    spec_error = False
    to_stdout_json = args.json == "-"
    outcomes = execute(plans, options, jobs=args.jobs, store=store,
                       recheck=args.recheck_cached, sink=None if status is None else status.event)
    with contextlib.closing(outcomes):
        for f in outcomes:
            if status is not None:
                status.clear()
            files.append(f)
            for w in f.warnings:
                print(f"speccheck: warning: {w}", file=sys.stderr)
            if f.diagnostics:
                spec_error = True
                for d in f.diagnostics:
                    print(render_diagnostic(d), file=sys.stderr)
                n = len(f.diagnostics)
                print(f"speccheck: {f.file}: {n} error{'s' if n != 1 else ''}; nothing was "
                      "checked", file=sys.stderr)
                continue
            reports.extend(f.reports)
            if to_stdout_json:
                continue
            if f.sweep is not None:
                sys.stdout.write(render_matrix(f.file, list(f.sweep), f.reports))
            else:
                for report in f.reports:
                    sys.stdout.write(text.render(report, color=color, timings=args.timings,
                                                 certificates=args.show_certificates))
            sys.stdout.flush()
    if status is not None:  # the workers' last events may come after the last report
        status.clear()
    run = RunInfo(tuple(files), args.shard, None if store is None else str(store.root),
                  args.timings, found.skipped)
    if many and reports and not to_stdout_json:
        sys.stdout.write(summary.render(run))
    return reports, run, spec_error


def _write_file(path: str, content: str) -> bool:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(content)
    except OSError as exc:
        print(f"speccheck: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return False
    return True


def mutate_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="speccheck mutate", description="Mutation testing: check variants of "
                "a model that each carry one deliberate mistake (a dropped await, lock or "
                "switch, an if made true, an ownership test inverted) and report which ones "
                "its properties catch.")
    p.add_argument("file", metavar="FILE", help="model file (.spec)")
    p.add_argument("-D", dest="defines", action="append", type=_define, default=[],
                   metavar="NAME=VALUE", help="override a model parameter (repeatable)")
    p.add_argument("--engine", choices=ENGINES, default="auto", help="engine (default auto)")
    p.add_argument("--depth", type=_positive, default=20, help="BMC bound (default 20)")
    p.add_argument("--max-states", type=_positive, default=200_000,
                   help="explicit search limit (default 200000)")
    p.add_argument("--timeout", type=_seconds, default=120.0, metavar="SECONDS",
                   help="time limit per mutant and configuration (default 120)")
    p.add_argument("--sweep", action="store_true", default=None,
                   help="check each mutant in every combination of the boolean and "
                        "enumeration parameters (default: the model's declared sweep)")
    p.add_argument("--no-sweep", dest="sweep", action="store_false",
                   help="check each mutant in the default configuration only")
    p.add_argument("--limit", type=_positive, default=None, metavar="N",
                   help="check at most N mutants, spread evenly over the list")
    p.add_argument("--mutant", action="append", default=[], metavar="ID",
                   help="check only this mutant (repeatable)")
    p.add_argument("--list", action="store_true", help="list the mutants, check nothing")
    p.add_argument("--timings", action="store_true", help="print each mutant's run time")
    return p


def _mutate(argv: Sequence[str]) -> int:
    args = mutate_parser().parse_args(argv)
    options = CheckOptions(engine=args.engine, depth=args.depth, defines=tuple(args.defines),
                           max_states=args.max_states, timeout=args.timeout, certify=False)
    try:
        if args.list:
            sys.stdout.write(mutate.render_list(args.file))
            return ExitCode.OK
        report = mutate.run(args.file, options, limit=args.limit, sweep=args.sweep,
                            only=tuple(args.mutant))
    except SpecError as exc:
        for d in exc.diagnostics:
            print(render_diagnostic(d), file=sys.stderr)
        n = len(exc.diagnostics)
        print(f"speccheck: {args.file}: {n} error{'s' if n != 1 else ''}; nothing was mutated",
              file=sys.stderr)
        return ExitCode.SPEC_ERROR
    except mutate.MutationError as exc:
        print(f"speccheck mutate: {exc}", file=sys.stderr)
        return ExitCode.UNEXPECTED
    sys.stdout.write(mutate.render(report, timings=args.timings))
    return mutate.exit_code(report)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE
    except KeyboardInterrupt:
        print("speccheck: interrupted", file=sys.stderr)
        code = ExitCode.INCONCLUSIVE
    except Exception:  # anything not a user error is a bug in speccheck
        crash.report(argv)
        code = ExitCode.INTERNAL
    if argv is None:
        sys.exit(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["mutate"]:  # `speccheck mutate FILE`; `./mutate` names a model file
        return _mutate(given[1:])
    args = parser().parse_args(argv)
    options = CheckOptions(engine=args.engine, depth=args.depth, seed=args.seed,
                           only=tuple(args.only), defines=tuple(args.defines),
                           max_states=args.max_states, timeout=args.timeout,
                           obligation_timeout=args.obligation_timeout, witness=args.witness,
                           certify=not args.no_certificates, max_memory=args.max_memory,
                           all_sizes=args.all_sizes or bool(args.emit_lemmas),
                           lemmas_from=args.lemmas_from)
    color = not args.no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    to_stdout_json = args.json == "-"
    try:
        reports, run, spec_error = _check_all(args, options, color)
    except WorkerDied as exc:
        print(f"speccheck: {exc}", file=sys.stderr)
        return ExitCode.INTERNAL
    code = ExitCode.SPEC_ERROR if spec_error else exit_code(reports, args.fail_on_vacuity)
    failed_output = False
    if args.junit and not _write_file(args.junit, junit.render(
            run, fail_on_vacuity=args.fail_on_vacuity)):
        failed_output = True
    if args.sarif and not _write_file(args.sarif, sarif.render(run, VERSION)):
        failed_output = True
    if args.json:
        doc = to_json.render(reports, code, run)
        if to_stdout_json:
            sys.stdout.write(doc)
        else:
            try:
                with open(args.json, "w", encoding="utf-8") as fh:
                    fh.write(doc)
            except OSError as exc:
                print(f"speccheck: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
                failed_output = True
    if args.certificate:  # after the JSON report, so one bad path does not lose the other
        try:
            with open(args.certificate, "w", encoding="utf-8") as fh:
                fh.write(certificates_file(reports))
        except OSError as exc:
            print(f"speccheck: cannot write {args.certificate}: {exc.strerror}", file=sys.stderr)
            failed_output = True
    if args.trace_svg and not _write_pictures(args.trace_svg, reports):
        failed_output = True
    if args.emit_lemmas and not _write_file(args.emit_lemmas, lemmas_file(reports)):
        failed_output = True
    if failed_output:
        return ExitCode.USAGE
    return code


if __name__ == "__main__":
    main()
