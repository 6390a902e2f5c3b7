"""The plan of a run: which tasks (model file x configuration) to check, and shards.

Planning loads and type-checks each file once (cheap next to checking it) to
learn its sweep configurations and the normalised text its cache key is made
of; a file that fails here is reported with its diagnostics and has no tasks.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, replace

from checker.options import CheckOptions
from checker.outcomes import Shard, Task
from checker.sweep import MAX_CONFIGURATIONS, program_sweep, show
from spec import codes
from spec import syntax as S
from spec.diagnostics import Diagnostic, SpecError
from spec.loader import LoadedModel, load_file
from spec.printer import print_module
from spec.source import BUILTIN_SPAN
from spec.typecheck import check


@dataclass(frozen=True)
class FilePlan:
    file: str
    sweep: tuple[str, ...] | None        # swept parameter names; None: one configuration
    tasks: tuple[Task, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    model_hash: str = ""                 # of the normalised model, includes resolved

    @property
    def ident(self) -> str:
        return self.file


def normalised_text(model: LoadedModel) -> str:
    """The model as canonical text (includes expanded, comments and layout gone), so
    reformatting a file does not invalidate its cached results. Falls back to the
    raw texts of every file read if the printer cannot print a declaration."""
    try:
        return print_module(S.Module(model.decls, BUILTIN_SPAN))
    except Exception:  # a stricter key: any edit then counts as a change
        sources = {d.span.source.name: d.span.source.text for d in model.decls}
        sources[model.root.name] = model.root.text
        return "\x00".join(f"{n}\x00{t}" for n, t in sorted(sources.items()))


def plan_file(path: str, options: CheckOptions, *, sweep_all: bool = False,
              no_sweep: bool = False) -> FilePlan:
    """`sweep_all`: --sweep (every boolean and enumeration parameter); `no_sweep`:
    one configuration even if the model declares `sweep`."""
    try:
        model = load_file(path)
        program = check(model, dict(options.defines))
        model_hash = hashlib.sha256(normalised_text(model).encode("utf-8")).hexdigest()
        if not (sweep_all or (not no_sweep and program.sweep)):
            return FilePlan(path, None, (Task(path, ()),), model_hash=model_hash)
        params = program_sweep(program, options, all_parameters=sweep_all)
        names = tuple(n for n, _ in params)
        combos = list(itertools.product(*(values for _, values in params)))
        if len(combos) > MAX_CONFIGURATIONS:
            raise SpecError([codes.make("SC504", f"--sweep over {', '.join(names)} has "
                                        f"{len(combos)} configurations; the limit is "
                                        f"{MAX_CONFIGURATIONS}", None,
                                        hint="fix some parameters with -D")])
    except SpecError as exc:
        return FilePlan(path, None, (), exc.diagnostics)
    tasks = tuple(Task(path, tuple((n, show(v)) for n, v in zip(names, combo, strict=True)),
                       swept=True) for combo in combos)
    return FilePlan(path, names, tasks, model_hash=model_hash)


def task_options(task: Task, options: CheckOptions) -> CheckOptions:
    """The options of one configuration: the run's, plus the swept values as -D."""
    if not task.configuration:
        return options
    return replace(options, defines=(*options.defines, *task.configuration))


def _bucket(ident: str, count: int) -> int:
    digest = hashlib.sha256(ident.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def in_shard(ident: str, shard: Shard | None) -> bool:
    """Shards split by a hash of the task's identity (file path and configuration), so
    a task stays in its shard when other models are added or removed, every machine
    computes the same split, and the shards are disjoint and together complete."""
    return shard is None or _bucket(ident, shard.count) == shard.index - 1


def select_shard(plans: list[FilePlan], shard: Shard | None) -> list[FilePlan]:
    """The part of the plan one shard runs; a file that failed to plan belongs to
    the shard its path hashes to, so its diagnostics are reported exactly once."""
    out: list[FilePlan] = []
    for p in plans:
        if p.diagnostics:
            if in_shard(p.ident, shard):
                out.append(p)
            continue
        tasks = tuple(t for t in p.tasks if in_shard(t.ident, shard))
        if tasks:
            out.append(replace(p, tasks=tasks))
    return out
