"""Run options: an immutable value passed explicitly from the CLI to the engines."""

from __future__ import annotations

from dataclasses import dataclass

ENGINES = ("auto", "explicit", "bmc", "induction", "kind", "pdr")
LEMMA_SOURCES = {"both": ("samples", "certificates"), "samples": ("samples",),
                 "certificates": ("certificates",), "none": ()}


@dataclass(frozen=True)
class CheckOptions:
    engine: str = "auto"
    depth: int = 20
    seed: int = 0
    only: tuple[str, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()
    max_states: int = 200_000
    timeout: float | None = None  # seconds per model, overall
    obligation_timeout: float | None = None  # seconds per solver query
    witness: str | None = None  # a step or routine to show a shortest trace to
    prove: bool = True  # auto: try PDR on what explicit search and BMC left open
    certify: bool = True  # explicit proofs: mine an inductive invariant as a certificate
    max_memory: int = 4096  # megabytes the explicit search's stored states may take
    all_sizes: bool = False  # also prove each property for every size (checker.engines.allsizes)
    lemmas_from: str = "both"  # --all-sizes candidate lemmas: samples, certificates, both, none

    def solver_timeout_ms(self, remaining: float | None) -> int | None:
        """Milliseconds for one solver query: the smaller of the per-obligation limit
        and what is left of the overall one."""
        limits = [x for x in (remaining, self.obligation_timeout) if x is not None]
        return max(1, int(min(limits) * 1000)) if limits else None

    def replay_args(self) -> list[str]:
        args: list[str] = []
        for name, value in self.defines:
            args += ["-D", f"{name}={value}"]
        args += ["--engine", self.engine]
        if self.engine != "explicit":
            args += ["--depth", str(self.depth)]
        if self.engine != "bmc" and self.max_states != CheckOptions.max_states:
            args += ["--max-states", str(self.max_states)]
        if self.max_memory != CheckOptions.max_memory:
            args += ["--max-memory", str(self.max_memory)]
        if self.timeout is not None:
            args += ["--timeout", f"{self.timeout:g}"]
        if self.obligation_timeout is not None:
            args += ["--obligation-timeout", f"{self.obligation_timeout:g}"]
        for p in self.only:
            args += ["--only", p]
        if self.witness is not None:
            args += ["--witness", self.witness]
        if not self.certify:
            args += ["--no-certificates"]
        if self.all_sizes:
            args += ["--all-sizes"]
            if self.lemmas_from != CheckOptions.lemmas_from:
                args += ["--lemmas-from", self.lemmas_from]
        args += ["--seed", str(self.seed)]
        return args
