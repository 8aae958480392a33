"""Runs each scenario in its own process, so that its memory peak is its own.

The parent starts ``python -m bench.runner …`` per scenario; the child runs it, then writes a
:class:`ScenarioResult` (figures, ``VmHWM`` peak, seconds, or the error) as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from bench.measure import ScenarioResult, rss_peak_mib
from bench.prepare import ScenarioContext, quiet_libraries
from bench.scenarios import scenario

REPO = Path(__file__).resolve().parent.parent


def run_in_child(
    name: str, ctx: ScenarioContext, *, triples: int, timeout_s: float
) -> ScenarioResult:
    """Run scenario ``name`` in a child process and read back its result."""
    out = ctx.scratch / f"{name}.result.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.runner", name, "--root", str(ctx.root),
           "--size", str(ctx.size), "--runs", str(ctx.runs), "--scratch", str(ctx.scratch),
           "--triples", str(triples), "--out", str(out), *(["--quick"] if ctx.quick else [])]
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, timeout=timeout_s, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail = proc.stdout[-2000:]
    except subprocess.TimeoutExpired:
        tail = f"timed out after {timeout_s:.0f} s"
    if out.exists():
        return ScenarioResult.from_dict(json.loads(out.read_text()))
    return ScenarioResult(scenario=name, size=ctx.size, triples=triples, figures=(),
                          rss_peak_mib=0.0, seconds=time.perf_counter() - started,
                          error=tail.strip().splitlines()[-1] if tail.strip() else "no output")


def main(argv: list[str] | None = None) -> None:
    """Child entry point: run one scenario, write its result."""
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--scratch", type=Path, required=True)
    p.add_argument("--triples", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    quiet_libraries()
    ctx = ScenarioContext(root=a.root, size=a.size, runs=a.runs, scratch=a.scratch,
                          quick=a.quick)
    started = time.perf_counter()
    error = None
    figures = []
    try:
        figures = scenario(a.scenario)(ctx)
    except Exception as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}"
    result = ScenarioResult(scenario=a.scenario, size=a.size, triples=a.triples,
                            figures=tuple(figures), rss_peak_mib=rss_peak_mib(),
                            seconds=time.perf_counter() - started, error=error)
    a.out.write_text(json.dumps(result.as_dict(), indent=1))


if __name__ == "__main__":
    main()
