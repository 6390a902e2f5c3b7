"""The `speccheck` command: argument parsing, wiring, printing, exit codes.

The only module that prints or exits. Exit codes are ``checker.results.ExitCode``:
0 every result as expected, 1 a result against expectation, 2 usage error,
3 specification error, 4 inconclusive, 70 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from checker.options import ENGINES, CheckOptions
from checker.report import text, to_json
from checker.results import ExitCode, ModelReport, exit_code
from checker.run import check_file
from checker.sweep import declared_sweep, render_matrix, sweep_file
from spec.diagnostics import SpecError
from spec.diagnostics import render as render_diagnostic

VERSION = "0.1.0"


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


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="speccheck", description="Check models of CPython's import state: R1 "
                "(shared state under a global lock), R2 (owner-current free/resize), lock "
                "sanity, deadlock freedom, and the model's own invariants.")
    p.add_argument("files", nargs="+", metavar="FILE", help="model files (.spec)")
    p.add_argument("-D", dest="defines", action="append", type=_define, default=[],
                   metavar="NAME=VALUE", help="override a model parameter (repeatable)")
    p.add_argument("--engine", choices=ENGINES, default="auto",
                   help="auto (default): explicit search, then BMC for what it could not "
                        "decide, then PDR for what is still open")
    p.add_argument("--depth", type=_positive, default=20, help="BMC bound (default 20)")
    p.add_argument("--max-states", type=_positive, default=200_000,
                   help="explicit search limit (default 200000)")
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
    p.add_argument("--certificate", metavar="FILE",
                   help="save the certificates (re-checked inductive invariants) of all "
                        "proofs to FILE")
    p.add_argument("--no-certificates", action="store_true",
                   help="skip mining certificates for explicit proofs (faster; the proofs "
                        "stand on the exhaustive search alone)")
    p.add_argument("--show-certificates", action="store_true",
                   help="print the certificates (re-checked inductive invariants) of all "
                        "proofs")
    p.add_argument("--no-color", action="store_true", help="never use colors")
    p.add_argument("--timings", action="store_true", help="print run times")
    p.add_argument("--version", action="version", version=f"speccheck {VERSION}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE
    except KeyboardInterrupt:
        print("speccheck: interrupted", file=sys.stderr)
        code = ExitCode.INCONCLUSIVE
    except Exception:  # anything not a user error is a bug in speccheck
        print("speccheck: internal error — please report this with the model and command line",
              file=sys.stderr)
        traceback.print_exc()
        code = ExitCode.INTERNAL
    if argv is None:
        sys.exit(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    options = CheckOptions(engine=args.engine, depth=args.depth, seed=args.seed,
                           only=tuple(args.only), defines=tuple(args.defines),
                           max_states=args.max_states, timeout=args.timeout,
                           obligation_timeout=args.obligation_timeout, witness=args.witness,
                           certify=not args.no_certificates)
    color = not args.no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    reports: list[ModelReport] = []
    spec_error = False
    to_stdout_json = args.json == "-"
    for path in args.files:
        try:
            if args.sweep or (not args.no_sweep and declared_sweep(path, options)):
                names, swept = sweep_file(path, options, all_parameters=args.sweep)
                reports.extend(swept)
                if not to_stdout_json:
                    sys.stdout.write(render_matrix(path, names, swept))
                continue
            report = check_file(path, options)
        except SpecError as exc:
            spec_error = True
            for d in exc.diagnostics:
                print(render_diagnostic(d), file=sys.stderr)
            n = len(exc.diagnostics)
            print(f"speccheck: {path}: {n} error{'s' if n != 1 else ''}; nothing was checked",
                  file=sys.stderr)
            continue
        reports.append(report)
        if not to_stdout_json:
            sys.stdout.write(text.render(report, color=color, timings=args.timings,
                                         certificates=args.show_certificates))
    code = ExitCode.SPEC_ERROR if spec_error else exit_code(reports, args.fail_on_vacuity)
    failed_output = False
    if args.json:
        doc = to_json.render(reports, code)
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
    if failed_output:
        return ExitCode.USAGE
    return code


if __name__ == "__main__":
    main()
