"""What a benchmark records: timings (median of several runs), figures beside their baselines.

A :class:`Figure` is one line of a results table: Warrant's number, the bare library's number
for the same work measured in the same run, their ratio, the target and whether it is met.
Record first, render later: scenarios return figures, :mod:`bench.report` renders them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Unit = Literal["s", "ms", "triples/s", "actions/s", "requests/s", "MiB"]
Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each run; the median is what tables show."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median seconds over the runs."""
        return statistics.median(self.runs)

    @property
    def p50_ms(self) -> float:
        """Median in milliseconds."""
        return self.median * 1000

    def percentile_ms(self, q: float) -> float:
        """The ``q`` quantile (0..1) in milliseconds, nearest rank."""
        ordered = sorted(self.runs)
        idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[idx] * 1000


def time_runs(fn: Callable[[], object], *, runs: int, warmup: int = 0) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times timed."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(max(1, runs)):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return Timing(tuple(out))


def time_interleaved(
    fns: list[Callable[[], object]], *, runs: int, warmup: int = 0
) -> list[Timing]:
    """Time several calls doing the same work side by side, one run of each in turn, so that
    a slow spell of a shared machine falls on all of them alike (not on one block of runs)."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    out: list[list[float]] = [[] for _ in fns]
    for _ in range(max(1, runs)):
        for i, fn in enumerate(fns):
            started = time.perf_counter()
            fn()
            out[i].append(time.perf_counter() - started)
    return [Timing(tuple(xs)) for xs in out]


def time_each(fns: list[Callable[[], object]]) -> Timing:
    """Time a list of distinct calls once each (runs that must not repeat the same work)."""
    out: list[float] = []
    for fn in fns:
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return Timing(tuple(out))


@dataclass(frozen=True)
class Figure:
    """One measured quantity: Warrant beside its baseline, with the target it answers to."""

    name: str
    unit: Unit
    warrant: float | None
    baseline: float | None = None
    baseline_name: str = ""
    better: Better = "lower"
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Warrant ÷ baseline (for rates: how much of the baseline's rate Warrant reaches)."""
        if self.warrant is None or not self.baseline:
            return None
        return self.warrant / self.baseline


@dataclass(frozen=True)
class ScenarioResult:
    """Everything one scenario measured at one size, plus its process's memory peak."""

    scenario: str
    size: int
    triples: int
    figures: tuple[Figure, ...]
    rss_peak_mib: float
    seconds: float
    error: str | None = None
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioResult:
        """Inverse of :meth:`as_dict`."""
        figures = tuple(Figure(**f) for f in data["figures"])
        return cls(**{**data, "figures": figures, "notes": tuple(data.get("notes", ()))})


def resident_mib(pid: int | None = None) -> tuple[float, float]:
    """A process's resident set now (``VmRSS``) and its peak (``VmHWM``), in MiB; this
    process's when ``pid`` is None."""
    status = Path(f"/proc/{'self' if pid is None else pid}/status").read_text()
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
           if line.startswith(("VmRSS:", "VmHWM:"))}
    return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024


def rss_peak_mib() -> float:
    """This process's peak resident set (``VmHWM``) in MiB."""
    return resident_mib()[1]


__all__ = ["Figure", "ScenarioResult", "Timing", "resident_mib", "rss_peak_mib", "time_each",
           "time_interleaved", "time_runs"]
