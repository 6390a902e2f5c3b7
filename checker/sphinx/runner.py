"""Checking models for the documentation, with the same results as the CLI.

A directive asks for a ``Request`` (one model, its options, how to sweep). Its
plan lists the configurations to check (one, or one per swept combination,
as ``checker.sweep`` would); each configuration is checked by
``checker.run.check_file`` and its result cached under a key made of the
model's files, the options, and the source of the checker itself, so a page
is re-checked only when one of those changed. Configurations run in worker
processes (``speccheck_jobs``), each in the project root so that paths in
reports read ``models/x.spec`` whatever directory Sphinx runs in.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shlex
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from checker.batch import normalised_text
from checker.options import CheckOptions
from checker.report import text
from checker.results import ExitCode, ModelReport, exit_code
from checker.sweep import MAX_CONFIGURATIONS, render_matrix, show, sweep_parameters
from spec import codes
from spec import syntax as S
from spec.diagnostics import SpecError
from spec.diagnostics import render as render_diagnostic
from spec.loader import LoadedModel, load_file
from spec.printer import print_expr
from spec.sorts import BoolT, EnumT, IntT
from spec.typecheck import check

SCHEMA = "1"  # bump when ConfigResult or the planning changes meaning
SWEEPS = ("declared", "all", "none")


@dataclass(frozen=True)
class Request:
    """What one ``speccheck`` directive asks for. ``path`` is relative to the
    project root (absolute when the model lies outside it)."""

    path: str
    defines: tuple[tuple[str, str], ...] = ()
    sweep: str = "declared"  # "declared" (as the CLI), "all" (--sweep), "none" (--no-sweep)
    engine: str = "auto"
    depth: int = 20
    max_states: int = 200_000
    only: tuple[str, ...] = ()
    certify: bool = True
    timeout: float | None = None
    # also check, without certificates, one configuration for each `expect violated`
    # that no configuration above exercises, to show its counterexample
    examples: bool = False
    # also prove the default configuration for every size (--all-sizes)
    all_sizes: bool = False

    def options(self, defines: tuple[tuple[str, str], ...] | None = None,
                all_sizes: bool = False) -> CheckOptions:
        """The CLI's options for one configuration; without `all_sizes` those of the
        instance check (the proof run's, so its result cache answers)."""
        return CheckOptions(engine=self.engine, depth=self.depth, only=self.only,
                            defines=self.defines if defines is None else defines,
                            max_states=self.max_states, timeout=self.timeout,
                            certify=self.certify, all_sizes=all_sizes)

    def command(self, all_sizes: bool = False, single: bool = False) -> str:
        """The command line that prints the same report: the instance checks, or with
        `all_sizes` the all-sizes proof (of one configuration, `--no-sweep`, when
        `single`: the default configuration of a sweep)."""
        args = ["speccheck", self.path]
        for name, value in self.defines:
            args += ["-D", f"{name}={value}"]
        if single:
            args.append("--no-sweep")
        elif self.sweep == "all":
            args.append("--sweep")
        elif self.sweep == "none":
            args.append("--no-sweep")
        if self.engine != "auto":
            args += ["--engine", self.engine]
        if self.depth != Request.depth:
            args += ["--depth", str(self.depth)]
        if self.max_states != Request.max_states:
            args += ["--max-states", str(self.max_states)]
        for p in self.only:
            args += ["--only", p]
        if not self.certify:
            args.append("--no-certificates")
        if self.timeout is not None:
            args += ["--timeout", f"{self.timeout:g}"]
        if all_sizes:
            args.append("--all-sizes")
        return shlex.join(args)


@dataclass(frozen=True)
class Config:
    """One configuration to check: the request's options with every swept value fixed."""

    request: Request
    configuration: tuple[tuple[str, str], ...]  # the swept values (-D after the request's)
    swept: bool                                 # part of a sweep
    model_hash: str                             # of the normalised model (the CLI's cache key)

    @property
    def defines(self) -> tuple[tuple[str, str], ...]:
        return (*self.request.defines, *self.configuration)


@dataclass(frozen=True)
class ParamDoc:
    name: str
    type: str
    value: str
    values: tuple[str, ...]  # the domain of a boolean or enumeration, else ()
    docs: tuple[str, ...]


@dataclass(frozen=True)
class ModelInfo:
    """What a page shows about the model besides results."""

    name: str
    docs: tuple[str, ...]          # the model's doc comment
    doc_lines: tuple[str, ...]     # every doc comment line of the model's own file
    source: str                    # the model's own file
    files: tuple[str, ...]         # absolute paths of every file it reads (dependencies)
    params: tuple[ParamDoc, ...]   # with the request's -D values applied
    expects: tuple[tuple[str, str, str], ...]  # (outcome, property, declaration text)
    sweep: tuple[str, ...]         # parameters the model sweeps (`sweep A, B`)


@dataclass(frozen=True)
class Plan:
    request: Request
    info: ModelInfo | None
    swept: tuple[str, ...] | None  # swept parameters; None when not a sweep
    configs: tuple[Config, ...]
    diagnostics: tuple[str, ...] = ()
    examples: tuple[Config, ...] = ()  # configurations that show other expected violations
    # the default configuration again, proved for all sizes on top of its instance
    # results (Request.all_sizes); its instance twin is among `configs`
    all_sizes: Config | None = None


@dataclass(frozen=True)
class ConfigResult:
    report: ModelReport | None
    diagnostics: tuple[str, ...] = ()
    error: str | None = None       # an internal error, with its traceback
    seconds: float = 0.0           # wall-clock time of the check
    cpu: float = 0.0               # processor time of the check (for the build log)
    cached: bool = False           # answered from the CLI's result cache


@dataclass(frozen=True)
class Outcome:
    """Everything a page shows for one request."""

    request: Request
    info: ModelInfo | None
    swept: tuple[str, ...] | None
    reports: tuple[ModelReport, ...]
    default: int | None            # which report is the model's default configuration
    diagnostics: tuple[str, ...]
    error: str | None
    text: str                      # what `speccheck` prints for the request
    exit: int                      # of the instance checks and the all-sizes proof together
    examples: tuple[ModelReport, ...] = ()  # see Request.examples
    # the default configuration's report with its all-sizes results (Request.all_sizes)
    all_sizes: ModelReport | None = None
    all_sizes_command: str = ""    # the command that prints it


@contextlib.contextmanager
def at(root: str) -> Iterator[None]:
    """Run in the project root, so reports and diagnostics name files as the CLI
    run from the root does (Sphinx reads documents one at a time)."""
    before = os.getcwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def _doc_lines(source: str) -> tuple[str, ...]:
    out = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("///"):
            out.append(stripped[3:].removeprefix(" "))
    return tuple(out)


def _expects(decls: Iterable[S.Decl]) -> tuple[tuple[str, str, str], ...]:
    out = []
    for d in decls:
        if isinstance(d, S.ExpectDecl):
            when = f" when {print_expr(d.when)}" if d.when is not None else ""
            out.append((d.outcome, d.name, f"expect {d.outcome} {d.name}{when}"))
    return tuple(out)


def plan(request: Request, root: str) -> Plan:
    """The model's description and the configurations to check (cheap: parsing and
    type checking only)."""
    asked = request
    request = replace(request, all_sizes=False)  # the instance checks, shared with other pages
    with at(root):
        try:
            model = load_file(request.path)
            options = request.options()
            program = check(model, dict(options.defines))
            swept: tuple[str, ...] | None = None
            model_hash = hashlib.sha256(normalised_text(model).encode("utf-8")).hexdigest()
            configs = [Config(request, (), False, model_hash)]
            if request.sweep == "all" or (request.sweep == "declared" and program.sweep):
                domains = sweep_parameters(request.path, options,
                                           all_parameters=request.sweep == "all")
                combos = list(itertools.product(*(values for _, values in domains)))
                names = tuple(n for n, _ in domains)
                if len(combos) > MAX_CONFIGURATIONS:
                    raise SpecError([codes.make(
                        "SC504", f"--sweep over {', '.join(names)} has {len(combos)} "
                        f"configurations; the limit is {MAX_CONFIGURATIONS}", None,
                        hint="fix some parameters with -D")])
                swept = names
                configs = [Config(request, tuple(
                    (n, show(v)) for n, v in zip(names, combo, strict=True)), True, model_hash)
                    for combo in combos]
        except SpecError as exc:
            return Plan(asked, None, None, (),
                        tuple(render_diagnostic(d) for d in exc.diagnostics))
        examples = _examples(request, model, configs, options) if request.examples else []
        files = tuple(str(Path(f).resolve()) for f in model.files)
        params = tuple(ParamDoc(
            p.name, "integer" if isinstance(p.type, IntT) else str(p.type), show(p.value),
            ("false", "true") if isinstance(p.type, BoolT) else
            p.type.values if isinstance(p.type, EnumT) else (), p.docs)
            for p in program.params)
        info = ModelInfo(program.name, program.docs, _doc_lines(model.root.text),
                         model.root.text, files, params, _expects(model.decls), program.sweep)
        lifted = None
        if asked.all_sizes:
            want = {p.name: p.value for p in params}
            default = next((c for c in configs
                            if all(want.get(n) == v for n, v in c.configuration)), configs[0])
            lifted = replace(default, request=asked)
    return Plan(asked, info, swept, tuple(configs), (), tuple(examples), lifted)


def _violations(model: LoadedModel, defines: tuple[tuple[str, str], ...]) -> set[str]:
    """The properties the model expects to be violated in a configuration."""
    try:
        program = check(model, dict(defines))
    except SpecError:
        return set()
    return {e.name for e in program.expects if e.outcome == "violated"}


def _examples(request: Request, model: LoadedModel, configs: list[Config],
              options: CheckOptions) -> list[Config]:
    """For each property the model expects to be violated somewhere but not in the
    planned configurations, the first configuration of a full sweep (boolean and
    enumeration parameters, as --sweep orders them) where it is: checked without
    certificates, for its counterexample."""
    covered: set[str] = set()
    for c in configs:
        covered |= _violations(model, c.defines)
    missing = {prop for outcome, prop, _ in _expects(model.decls)
               if outcome == "violated"} - covered
    if not missing:
        return []
    domains = sweep_parameters(request.path, options, all_parameters=True)
    names = [n for n, _ in domains]
    plain = replace(request, sweep="none", certify=False, examples=False, all_sizes=False)
    chosen: list[Config] = []
    for combo in itertools.islice(itertools.product(*(v for _, v in domains)),
                                  MAX_CONFIGURATIONS):
        values = tuple((n, show(v)) for n, v in zip(names, combo, strict=True))
        found = _violations(model, (*request.defines, *values)) & missing
        if found:
            chosen.append(Config(plain, values, False, configs[0].model_hash))
            missing -= found
        if not missing:
            break
    return chosen


def run_config(config: Config, cache_dir: str = "") -> ConfigResult:
    """Check one configuration in the current directory (a worker's job; never raises),
    as the CLI checks one task of a run, answering from the CLI's result cache in
    ``cache_dir`` when it holds the task (its counterexamples replayed) and adding
    what it checks to it."""
    from checker import cache as results_cache
    from checker.outcomes import Task
    from checker.workers import Job, run_job
    start, cpu = time.monotonic(), time.process_time()

    def timed(result: ConfigResult) -> ConfigResult:
        return replace(result, seconds=time.monotonic() - start,
                       cpu=time.process_time() - cpu)

    task = Task(config.request.path, config.configuration, config.swept)
    options = config.request.options(config.defines)
    store = key = entry = None
    if cache_dir:
        with contextlib.suppress(results_cache.CacheDirError):  # then no cache, as the CLI
            store = results_cache.Cache.open(cache_dir)
            key = results_cache.task_key(config.model_hash, options)
            entry, _ = store.load(key)
    try:
        done = run_job(Job(task, options, config.model_hash, key, entry, False), None)
    except SpecError as exc:
        return timed(ConfigResult(None, tuple(render_diagnostic(d) for d in exc.diagnostics)))
    except Exception:  # shown on the page and as a build warning, never hidden
        return timed(ConfigResult(None, error=traceback.format_exc()))
    if store is not None and done.entry is not None and done.key is not None:
        store.store(done.key, done.entry)
    found = done.outcome
    if found.report is None:
        return timed(ConfigResult(None, tuple(render_diagnostic(d) for d in found.diagnostics)))
    # wall-clock time is not part of a result: pages stay the same from build to build
    return timed(ConfigResult(replace(found.report, seconds=None), cached=found.cached))


def run_all_sizes(config: Config, instance: ConfigResult) -> ConfigResult:
    """The all-sizes proof of one configuration on top of its instance results (a
    worker's job; never raises): what ``speccheck --all-sizes`` reports for it, since
    the instance checks do not depend on --all-sizes and the proof only reads which
    properties they found violated. The instance results come from the proof run's
    cache or this build, so the instance is not checked twice."""
    from checker.run import all_sizes
    if instance.report is None:  # the model has errors, or checking it failed
        return instance
    start, cpu = time.monotonic(), time.process_time()
    options = config.request.options(config.defines, all_sizes=True)

    def timed(result: ConfigResult) -> ConfigResult:
        return replace(result, seconds=time.monotonic() - start,
                       cpu=time.process_time() - cpu)

    try:
        model = load_file(config.request.path)
        results, lemmas = all_sizes(model, list(instance.report.results), options, start)
    except SpecError as exc:
        return timed(ConfigResult(None, tuple(render_diagnostic(d) for d in exc.diagnostics)))
    except Exception:  # shown on the page and as a build warning, never hidden
        return timed(ConfigResult(None, error=traceback.format_exc()))
    replay = shlex.join(["speccheck", config.request.path, *options.replay_args(),
                         *(["--no-sweep"] if config.swept else [])])
    return timed(ConfigResult(replace(instance.report, results=tuple(results), lemmas=lemmas,
                                      replay=replay)))


def _tree_hash(dirs: Iterable[Path], skip: Path | None = None) -> str:
    h = hashlib.sha256()
    for d in dirs:
        for f in sorted(d.rglob("*")):
            if f.suffix not in (".py", ".lark") or (skip is not None and skip in f.parents):
                continue
            h.update(str(f.relative_to(d.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def checker_hash() -> str:
    """The source of everything that decides a result (the language and the checker,
    not this documentation package), with the z3 version."""
    import z3

    import checker.run
    import spec.loader
    here = Path(checker.run.__file__).resolve().parent
    version: str = z3.get_version_string()
    return _tree_hash([Path(spec.loader.__file__).resolve().parent, here],
                      skip=here / "sphinx") + ":" + version


def key(config: Config, info: ModelInfo, code: str) -> str:
    h = hashlib.sha256(f"{SCHEMA}\0{code}\0{config!r}\0".encode())
    for f in info.files:
        h.update(f.encode() + b"\0")
        try:
            h.update(Path(f).read_bytes())
        except OSError:  # gone since planning: the check will report it
            h.update(b"\0missing")
    return h.hexdigest()


def _default_index(info: ModelInfo, reports: tuple[ModelReport, ...]) -> int | None:
    want = {p.name: p.value for p in info.params}
    for i, r in enumerate(reports):
        if all(want.get(n) == show(v) for n, v in r.params):
            return i
    return None


def outcome(p: Plan, results: list[ConfigResult], examples: Sequence[ConfigResult] = (),
            lifted: ConfigResult | None = None) -> Outcome:
    """Put the configurations' results together as the CLI would print them."""
    req = p.request
    diagnostics = p.diagnostics or next((r.diagnostics for r in results if r.diagnostics), ())
    extra = (*examples, *([lifted] if lifted is not None else []))
    error = next((r.error for r in (*results, *extra) if r.error), None)
    if diagnostics or error or p.info is None:
        listing = "\n".join(diagnostics) + (
            f"\nspeccheck: {req.path}: {len(diagnostics)} error"
            f"{'s' if len(diagnostics) != 1 else ''}; nothing was checked\n"
            if diagnostics else "")
        code = ExitCode.SPEC_ERROR if diagnostics else ExitCode.INTERNAL
        return Outcome(req, p.info, p.swept, (), None, diagnostics, error, listing, code)
    reports = tuple(r.report for r in results if r.report is not None)
    lifted_report = lifted.report if lifted is not None else None
    command = ""
    if p.swept is not None:
        shown = render_matrix(req.path, list(p.swept), list(reports))
        if lifted_report is not None:  # the default configuration's proof, on its own
            command = req.command(all_sizes=True, single=True)
            shown += f"\n$ {command}\n" + text.render(lifted_report)
    elif lifted_report is not None:  # `speccheck --all-sizes` prints it all
        command = req.command(all_sizes=True)
        shown = text.render(lifted_report)
    else:
        shown = "".join(text.render(r) for r in reports)
    code = exit_code([*reports, *([lifted_report] if lifted_report is not None else [])])
    return Outcome(req, p.info, p.swept, reports, _default_index(p.info, reports), (), None,
                   shown, int(code), tuple(r.report for r in examples if r.report is not None),
                   lifted_report, command)


class Runner:
    """Checks configurations, in worker processes when ``jobs`` > 1, and keeps every
    result in ``cache`` (the Sphinx environment's dictionary)."""

    def __init__(self, root: str, jobs: int, cache: dict[str, ConfigResult],
                 code: str, log: Callable[[str], None], shared: str = "") -> None:
        self.root = root
        self.shared = shared  # the CLI's result cache directory ("" for none)
        self.jobs = max(1, jobs)
        self.cache = cache
        self.code = code
        self.log = log
        self._pool: ProcessPoolExecutor | None = None
        self._pid = os.getpid()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None or self._pid != os.getpid():  # a forked Sphinx reader
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=get_context("spawn"),
                                             initializer=os.chdir, initargs=(self.root,))
            self._pid = os.getpid()
        return self._pool

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.shutdown()
        self._pool = None

    def outcomes(self, plans: list[Plan]) -> list[Outcome]:
        """Check every configuration of these plans that is not cached (all at once),
        then the all-sizes proofs on top of their instance results."""
        # keys are computed once: a model edited during the build keeps the key (and
        # the results) of the text that was checked; the next build sees the change
        keys = [([key(c, p.info, self.code) for c in p.configs],
                 [key(c, p.info, self.code) for c in p.examples])
                if p.info is not None else ([], []) for p in plans]
        lifted = [(key(p.all_sizes, p.info, self.code), p.all_sizes,
                   key(replace(p.all_sizes, request=p.configs[0].request), p.info, self.code))
                  if p.info is not None and p.all_sizes is not None else None for p in plans]
        todo: dict[str, Config] = {}
        for p, (main, extra) in zip(plans, keys, strict=True):
            for k, c in zip((*main, *extra), (*p.configs, *p.examples), strict=True):
                if k not in self.cache:
                    todo.setdefault(k, c)
        if todo:
            self._run(todo)
        proofs = {k: (c, twin) for k, c, twin in filter(None, lifted) if k not in self.cache}
        if proofs:
            self._run(proofs)
        out = []
        for p, (main, extra), proof in zip(plans, keys, lifted, strict=True):
            if p.info is None:
                out.append(outcome(p, []))
                continue
            out.append(outcome(p, [self.cache[k] for k in main], [self.cache[k] for k in extra],
                               self.cache[proof[0]] if proof is not None else None))
        for k in (*todo, *proofs):  # an internal error is reported once, not remembered
            if self.cache[k].error is not None:
                del self.cache[k]
        return out

    def _run(self, todo: Mapping[str, Config | tuple[Config, str]]) -> None:
        """Check configurations; a (configuration, key) pair is an all-sizes proof on
        top of the instance result cached under the key."""
        start = time.monotonic()
        configs = {k: c if isinstance(c, Config) else c[0] for k, c in todo.items()}
        proofs = len(configs) - sum(1 for c in todo.values() if isinstance(c, Config))
        names = sorted({c.request.path for c in configs.values()})
        what = "all-sizes proof" if proofs else "configuration"
        self.log(f"speccheck: checking {len(todo)} {what}"
                 f"{'s' if len(todo) != 1 else ''} of {', '.join(names)}")

        def job(item: Config | tuple[Config, str]) -> tuple[Callable[..., ConfigResult],
                                                             tuple[object, ...]]:
            if isinstance(item, Config):
                return run_config, (item, self.shared)
            return run_all_sizes, (item[0], self.cache[item[1]])

        if self.jobs == 1 or len(todo) == 1:
            with at(self.root):
                for k, item in todo.items():
                    fn, args = job(item)
                    self.cache[k] = fn(*args)
        else:
            pool = self._executor()
            futures: dict[str, Future[ConfigResult]] = {}
            for k, item in todo.items():
                fn, args = job(item)
                futures[k] = pool.submit(fn, *args)
            for k, f in futures.items():
                try:
                    self.cache[k] = f.result()
                except Exception:  # a worker died: a warning on the page, not a crash
                    self.cache[k] = ConfigResult(None, error=traceback.format_exc())
                    self.close()
                    pool = self._executor()
        cpu = sorted(((self.cache[k].cpu, c) for k, c in configs.items()),
                     key=lambda x: -x[0])
        slowest = ", ".join(f"{c.request.path}"
                            + (f" ({' '.join(f'{n}={v}' for n, v in c.defines)})"
                               if c.defines else "") + f" {t:.1f}s" for t, c in cpu[:3])
        reused = sum(1 for k in todo if self.cache[k].cached)
        self.log(f"speccheck: checked in {time.monotonic() - start:.1f}s, "
                 f"{sum(t for t, _ in cpu):.1f}s of processor time"
                 + (f", {reused} from the result cache {self.shared}" if reused else "")
                 + f"; slowest: {slowest}")
