"""Running the tasks of a plan: in this process (-j 1) or in worker processes.

Each worker is a separate process (started fresh, not forked, so no solver
state is shared) that checks one task at a time with its own z3 contexts.
Outcomes are handed back in plan order, whatever order the workers finish
in, so the output of ``-j N`` is that of ``-j 1``. The parent process owns
the cache directory: it reads entries before a task starts and writes the
new ones; workers only decode and validate entries (replay, certificates).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import queue
import shlex
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

from checker import cache as cache_mod
from checker.batch import FilePlan, normalised_text, task_options
from checker.cache import Cache
from checker.options import CheckOptions
from checker.outcomes import FileOutcome, Task, TaskOutcome
from checker.progress import Event
from checker.results import ModelReport
from checker.run import all_sizes, build, check_with_coverage
from spec.diagnostics import SpecError
from spec.loader import load_file

Sink = Callable[[Event], None]


class WorkerDied(Exception):
    """A worker process ended without an answer (killed, or out of memory)."""


@dataclass(frozen=True)
class Job:
    task: Task
    options: CheckOptions      # the task's own (configuration applied)
    model_hash: str            # of the model text the plan (and the key) saw
    key: str | None            # cache key; None when the cache is off
    entry: str | None          # the cached entry, if there is one
    recheck: bool              # --recheck-cached
    notes: tuple[str, ...] = ()  # warnings from reading the entry


@dataclass(frozen=True)
class Done:
    outcome: TaskOutcome
    entry: str | None = None   # a new cache entry to store under `key`
    key: str | None = None


def task_name(task: Task) -> str:
    return task.file + (f" [{task.label}]" if task.configuration else "")


def run_job(job: Job, sink: Sink | None) -> Done:
    """One task: from the cache if an entry is there and holds up, else checked."""
    task, options = job.task, job.options
    name = task_name(task)
    start = time.monotonic()
    warnings: list[str] = list(job.notes)

    def progress(stage: str, depth: int | None, states: int | None) -> None:
        if sink is not None:
            sink(Event(name, stage, depth, states))

    try:
        model = load_file(task.file)
        ts = build(model, options)
        # a configuration of a sweep replays as one check, not as a one-row matrix
        replay = shlex.join(["speccheck", task.file, *options.replay_args(),
                             *(["--no-sweep"] if task.swept else [])])
        if job.entry is not None and job.key is not None:
            progress("cached results", None, None)
            try:
                got = cache_mod.restore(job.entry, job.key, ts, options, recheck=job.recheck)
            except cache_mod.EntryError as exc:
                warnings.append(f"cache entry for {name} ignored: {exc}; checking again")
                got = None
            if got is not None:
                seconds = time.monotonic() - start
                report = ModelReport(task.file, ts.name, ts.params, got.results, replay,
                                     got.states, seconds, got.coverage, options.witness,
                                     got.witness)
                return Done(TaskOutcome(task, report, cached=True, revalidated=got.revalidated,
                                        seconds=seconds, warnings=tuple(warnings)))
        results, states, coverage, witness = check_with_coverage(ts, options, start, progress)
        lemmas: tuple[tuple[str, str], ...] = ()
        if options.all_sizes:
            results, lemmas = all_sizes(model, results, options, start, progress)
        seconds = time.monotonic() - start
        report = ModelReport(task.file, ts.name, ts.params, tuple(results), replay, states,
                             seconds, coverage, options.witness, witness, lemmas=lemmas)
        entry = None
        if job.key is not None:
            now = hashlib.sha256(normalised_text(model).encode("utf-8")).hexdigest()
            if now == job.model_hash:  # the file did not change since the plan was made
                entry = cache_mod.encode(job.key, report)
            else:
                warnings.append(f"{task.file} changed during the run; its results are not "
                                "cached")
        return Done(TaskOutcome(task, report, seconds=seconds, warnings=tuple(warnings)), entry,
                    job.key)
    except SpecError as exc:
        return Done(TaskOutcome(task, None, exc.diagnostics, seconds=time.monotonic() - start,
                                warnings=tuple(warnings)))
    finally:
        if sink is not None:
            sink(Event(name, "done"))


# ---- worker processes --------------------------------------------------------------------

_worker_queue: Any = None  # the progress queue of this worker process, if any


def _init_worker(events: Any) -> None:
    global _worker_queue
    _worker_queue = events


def _run_in_worker(job: Job) -> Done:
    events = _worker_queue
    return run_job(job, None if events is None else events.put)


def _relay(events: Any, sink: Sink, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            sink(events.get(timeout=0.1))
        except queue.Empty:
            continue
        except (EOFError, OSError):  # the queue closed under us at shutdown
            return


# ---- the run -----------------------------------------------------------------------------


def _jobs(plans: list[FilePlan], options: CheckOptions, store: Cache | None,
          recheck: bool) -> list[Job]:
    jobs: list[Job] = []
    for p in plans:
        for t in p.tasks:
            opts = task_options(t, options)
            key = entry = problem = None
            if store is not None:
                key = cache_mod.task_key(p.model_hash, opts)
                entry, problem = store.load(key)
            jobs.append(Job(t, opts, p.model_hash, key, entry, recheck,
                            () if problem is None else (problem,)))
    return jobs


def execute(plans: list[FilePlan], options: CheckOptions, *, jobs: int = 1,
            store: Cache | None = None, recheck: bool = False,
            sink: Sink | None = None) -> Generator[FileOutcome, None, None]:
    """Outcomes file by file, in plan order, each as soon as its tasks are done."""
    todo = _jobs(plans, options, store, recheck)
    if jobs <= 1 or len(todo) <= 1:
        yield from _collect(plans, (run_job(j, sink) for j in todo), store)
        return
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue() if sink is not None else None
    stop = threading.Event()
    relay = None
    if events is not None and sink is not None:
        relay = threading.Thread(target=_relay, args=(events, sink, stop), daemon=True)
        relay.start()
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx,
                               initializer=_init_worker, initargs=(events,))
    futures: list[Future[Done]] = []
    try:
        futures = [pool.submit(_run_in_worker, j) for j in todo]
        yield from _collect(plans, _in_order(futures, todo), store)
    finally:
        for f in futures:
            f.cancel()
        if any(not f.done() for f in futures):  # interrupted: stop the running workers too
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        stop.set()
        if relay is not None:
            relay.join()


def _in_order(futures: list[Future[Done]], todo: list[Job]) -> Iterator[Done]:
    for f, job in zip(futures, todo, strict=True):
        try:
            yield f.result()
        except BrokenProcessPool:
            raise WorkerDied(f"a worker process died while checking {task_name(job.task)} "
                             "(killed, or out of memory)") from None


def _collect(plans: list[FilePlan], answers: Iterator[Done], store: Cache | None
             ) -> Iterator[FileOutcome]:
    for p in plans:
        if p.diagnostics:
            yield FileOutcome(p.file, None, (), p.diagnostics)
            continue
        outcomes: list[TaskOutcome] = []
        for _ in p.tasks:
            done = next(answers)
            o = done.outcome
            if store is not None and done.entry is not None and done.key is not None:
                problem = store.store(done.key, done.entry)
                if problem:
                    o = replace(o, warnings=(*o.warnings, problem))
            outcomes.append(o)
        failed = next((o.diagnostics for o in outcomes if o.diagnostics), ())
        yield FileOutcome(p.file, p.sweep, tuple(outcomes), failed)
