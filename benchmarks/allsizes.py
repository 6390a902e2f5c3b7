#!/usr/bin/env python3
"""All-sizes proofs next to instance proofs at growing sizes.

For each model (default: the safe extension-cache designs), measures

* the time of ``speccheck --all-sizes`` (the instance check included, at the
  model's default sizes) and how many properties it proves for all sizes;
* the time of the instance proof alone (``--engine explicit
  --no-certificates``) with INTERPS = THREADS = 2, 3, 4, ... until a run hits
  the time limit (the state count is printed too).

The all-sizes proof's cost does not depend on the sizes by construction: it is
one run, whatever INTERPS and THREADS are. speccheck runs as a subprocess with
``--json -``; times are wall-clock times of the whole process. Measurements
only: this script asserts nothing about speed. Standard library only.

    python benchmarks/allsizes.py [--timeout 300] [--all-sizes-timeout 900] [--sizes 2,3,4]
                                  [--lemmas-from both|samples|certificates|none]
                                  [MODEL[:NAME=VALUE,...] ...]
    python benchmarks/allsizes.py --json out.json       # keep the numbers
    python benchmarks/allsizes.py --render out.json     # print a saved run again
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = ("models/extcache.spec", "models/extcache_313.spec")


def speccheck() -> list[str]:
    return [sys.executable, "-m", "checker.cli"]


def run(args: list[str], timeout: float) -> dict[str, Any]:
    """One speccheck run: wall time, exit code and the JSON document (or None)."""
    start = time.monotonic()
    env = dict(os.environ, NO_COLOR="1")
    try:
        proc = subprocess.run([*speccheck(), *args, "--json", "-", "--no-progress"], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"seconds": time.monotonic() - start, "code": None, "doc": None}
    seconds = time.monotonic() - start
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        doc = None
    return {"seconds": seconds, "code": proc.returncode, "doc": doc}


def split(model: str) -> tuple[str, list[str]]:
    """`path:NAME=VALUE,...` -> (path, ["-D", "NAME=VALUE", ...]): a configuration."""
    path, _, config = model.partition(":")
    return path, [x for d in config.split(",") if d for x in ("-D", d)]


def all_sizes(model: str, timeout: float, lemmas_from: str = "both") -> dict[str, Any]:
    path, defines = split(model)
    got = run([path, *defines, "--all-sizes", "--lemmas-from", lemmas_from,
               "--no-certificates", "--no-sweep"], timeout)
    out: dict[str, Any] = {"seconds": round(got["seconds"], 1), "code": got["code"]}
    if got["doc"] is None:
        out.update(proved=None, total=None, lemmas=None)
        return out
    m = got["doc"]["models"][0]
    results = m["results"]
    out["total"] = len(results)
    out["proved"] = sum(1 for r in results if (r.get("all_sizes") or {}).get("verdict")
                        == "proved for all sizes")
    out["lemmas"] = len(m.get("all_sizes_lemmas", []))
    out["unknown"] = [r["name"] for r in results
                      if (r.get("all_sizes") or {}).get("verdict") == "unknown"]
    return out


def instance(model: str, n: int, timeout: float) -> dict[str, Any]:
    path, defines = split(model)
    got = run([path, *defines, "-D", f"INTERPS={n}", "-D", f"THREADS={n}", "--engine",
               "explicit", "--no-certificates", "--no-sweep", "--max-states", "10000000"],
              timeout)
    out: dict[str, Any] = {"n": n, "seconds": round(got["seconds"], 1), "code": got["code"]}
    if got["doc"] is None:
        out.update(states=None, verdict="time limit" if got["code"] is None else "error")
        return out
    results = got["doc"]["models"][0]["results"]
    out["states"] = got["doc"]["models"][0]["states"]
    verdicts = {r["verdict"] for r in results}
    out["verdict"] = "proved" if verdicts == {"proved"} else ", ".join(sorted(verdicts))
    return out


def measure(models: list[str], sizes: list[int], timeout: float,
            all_sizes_timeout: float, lemmas_from: str = "both") -> dict[str, Any]:
    rows = []
    for model in models:
        print(f"{model}: all sizes ...", file=sys.stderr, flush=True)
        row: dict[str, Any] = {"model": model, "instances": [],
                               "all_sizes": all_sizes(model, all_sizes_timeout, lemmas_from)}
        for n in sizes:
            print(f"{model}: INTERPS=THREADS={n} ...", file=sys.stderr, flush=True)
            cell = instance(model, n, timeout)
            row["instances"].append(cell)
            if cell["verdict"] == "time limit":
                break  # larger instances only take longer
        rows.append(row)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}",
            "timeout": timeout, "all_sizes_timeout": all_sizes_timeout,
            "lemmas_from": lemmas_from, "rows": rows}


def render(data: dict[str, Any]) -> str:
    limit = data.get("all_sizes_timeout", data["timeout"])
    out = [f"machine: {data['machine']}; time limit {data['timeout']:g} s per instance run, "
           f"{limit:g} s per all-sizes run; lemmas from "
           f"{data.get('lemmas_from', 'samples')}", ""]
    sizes = sorted({c["n"] for r in data["rows"] for c in r["instances"]})
    head = ["model", "all sizes: time", "proved", "lemmas"] + [
        f"instance {n}x{n}: time (states)" for n in sizes]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" for _ in head) + "|")
    for r in data["rows"]:
        a = r["all_sizes"]
        proved = ("time limit" if a["code"] is None else "error") if a["proved"] is None \
            else f"{a['proved']}/{a['total']}"
        path, _, config = r["model"].partition(":")
        name = Path(path).name + (f" ({config.replace(',', ' ')})" if config else "")
        cells = [f"`{name}`", f"{a['seconds']} s", proved,
                 "-" if a["lemmas"] is None else str(a["lemmas"])]
        by_n = {c["n"]: c for c in r["instances"]}
        for n in sizes:
            c = by_n.get(n)
            if c is None:
                cells.append("(not run: a smaller instance hit the limit)")
            elif c["verdict"] == "time limit":
                cells.append(f"> {data['timeout']:g} s")
            else:
                states = "" if c["states"] is None else f" ({c['states']})"
                mark = "" if c["verdict"] == "proved" else f" [{c['verdict']}]"
                cells.append(f"{c['seconds']} s{states}{mark}")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per run (300)")
    p.add_argument("--all-sizes-timeout", type=float, metavar="SECONDS",
                   help="seconds per all-sizes run (default: --timeout)")
    p.add_argument("--sizes", default="2,3,4", help="INTERPS = THREADS values (2,3,4)")
    p.add_argument("--lemmas-from", default="both",
                   choices=("both", "samples", "certificates", "none"),
                   help="the all-sizes runs' candidate lemmas (speccheck --lemmas-from)")
    p.add_argument("--json", metavar="FILE", help="save the measurements")
    p.add_argument("--render", metavar="FILE", help="print a saved run")
    args = p.parse_args()
    if args.render:
        print(render(json.loads(Path(args.render).read_text(encoding="utf-8"))), end="")
        return 0
    sizes = [int(x) for x in args.sizes.split(",") if x]
    data = measure(args.models, sizes, args.timeout, args.all_sizes_timeout or args.timeout,
                   args.lemmas_from)
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(render(data), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
