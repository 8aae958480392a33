"""``python -m bench`` (``make bench``): generate KGs, run every scenario, write BENCHMARKS.md.

Examples::

    python -m bench --quick                 # 10k triples only, a few runs
    python -m bench --sizes 100k --runs 5   # one size
    python -m bench --report-only           # re-render BENCHMARKS.md from bench/results
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from bench.generate import DEFAULT_SEED, generate
from bench.prepare import ScenarioContext
from bench.report import save, write
from bench.runner import run_in_child
from bench.scenarios import SCENARIOS

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = {10_000: 900.0, 100_000: 3600.0, 1_000_000: 14_400.0}


def parse_size(text: str) -> int:
    """``10k`` → 10000, ``1M`` → 1000000, ``2500`` → 2500."""
    t = text.strip().lower()
    mult = 1_000_000 if t.endswith("m") else 1000 if t.endswith("k") else 1
    try:
        value = int(float(t.rstrip("mk")) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a size like 10k, 100k or 1M") from None
    if value < 1000:
        raise argparse.ArgumentTypeError(f"size `{text}` is below 1k triples")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (1 if any scenario failed)."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10k triples only (under a minute)")
    p.add_argument("--sizes", default="10k,100k,1M", help="comma-separated, e.g. 10k,100k")
    p.add_argument("--runs", type=int, default=None, help="runs per figure (median)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument("--work", type=Path, default=REPO / "var" / "bench")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--report-only", action="store_true")
    a = p.parse_args(argv)
    if a.report_only:
        print(write(a.out))
        return 0
    sizes = [10_000] if a.quick else [parse_size(s) for s in a.sizes.split(",") if s.strip()]
    runs = a.runs or (3 if a.quick else 5)
    names = [n.strip() for n in a.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    failed = False
    for size in sizes:
        root = a.work / f"kg-{size}"
        if root.exists():
            shutil.rmtree(root)
        ws = generate(root, triples=size, seed=a.seed)
        scratch = a.work / f"scratch-{size}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        ctx = ScenarioContext(root=ws.root, size=size, runs=runs, scratch=scratch)
        results = []
        for name in names:
            print(f"[{size:,}] {name} …", flush=True)
            r = run_in_child(name, ctx, triples=ws.expected_triples,
                             timeout_s=TIMEOUT_S.get(size, 14_400.0))
            failed = failed or r.error is not None
            print(f"[{size:,}] {name}: {r.seconds:.1f} s, peak {r.rss_peak_mib:.0f} MiB"
                  + (f" — FAILED: {r.error}" if r.error else ""), flush=True)
            results.append(r)
        save(size, ws.expected_triples, results, runs=runs)
        shutil.rmtree(scratch, ignore_errors=True)
        print(write(a.out), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
