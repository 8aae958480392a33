"""Decisions solved as steps on a grounded base (the split: ``steps``).

One base control per (fact revision, clock) holds the decision program's request-independent
part; each decision grounds its own step on it (the rules that depend on the proposed action,
for that action), solves it with the step's external assumed true, reads the step's atoms,
then releases the external. A step grounds and solves what the one proposed action reaches,
whatever the size of the KG; the warm decision control assigned every candidate's atoms on
every solve.

A released step stays in the grounder's tables (clingo frees no atom), so a base serves
``recycle`` steps and is then grounded again; the step names restart, so clingo's symbol
table, which is never freed either, stops growing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import clingo
from clingo import ast

from engine.errors import SolveError
from engine.reasoning.facts import FactSet
from engine.reasoning.request import DECIDE_GOAL, Request
from engine.reasoning.settled import Settled
from engine.reasoning.solve import Answer, finished, options
from engine.reasoning.steps import StepProgram, Unsplittable, split_program
from engine.reasoning.trace import Key, Reach, Trace, shown_values
from engine.reasoning.transform import COST, FIRED, ON, OUTPUTS, Program

_READ = frozenset(name for name, _arity in OUTPUTS) | {COST}


@dataclass
class _Base:
    control: clingo.Control
    trace: Trace
    on: dict[int, clingo.Symbol]
    ground_ms: float
    settled: Settled
    split: StepProgram
    lock: threading.Lock = field(default_factory=threading.Lock)
    steps: int = 0
    # per (statement, element) key, the static instances as symbol values (on first need)
    static: dict[Key, frozenset[int]] = field(default_factory=dict)

    def is_static(self, key: Key, value: int) -> bool:
        found = self.static.get(key)
        if found is None:
            found = self.static[key] = frozenset(self.trace.static_values(key))
        return value in found


class StepSolver:
    """Decisions over one compiled program as steps on a base grounded once per fact revision
    and clock (``solve`` returns None for what it does not handle: the caller's warm control
    answers those)."""

    def __init__(
        self,
        program: Program,
        *,
        time_limit: float,
        seed: int,
        recycle: int = 2000,
        cache_size: int = 2,
    ) -> None:
        self.program = program
        self.time_limit = time_limit
        self.seed = seed
        self.recycle = recycle
        self.cache_size = cache_size
        self._split: StepProgram | bool | None = None  # False: the program cannot be split
        self._bases: OrderedDict[tuple[str, int | None], _Base | None] = OrderedDict()
        self._lock = threading.Lock()

    def solve(self, facts: FactSet, request: Request, reach: Reach | None) -> Answer | None:
        """Decide ``request`` in a step; None when it is not a plain decision (parameters, a
        goal) or the program cannot be split."""
        if request.goal != DECIDE_GOAL or request.params or request.proposed is None:
            return None
        base = self._base(facts, request.now)
        if base is None:
            return None
        with base.lock:
            k = base.steps
            base.steps += 1
            try:
                return self._step(base, k, request.proposed, reach)
            finally:
                if base.steps >= self.recycle:
                    with self._lock:
                        self._bases.pop((facts.revision, request.now), None)

    # the base -----------------------------------------------------------------------------

    def _base(self, facts: FactSet, now: int | None) -> _Base | None:
        key = (facts.revision, now)
        with self._lock:
            if key in self._bases:
                self._bases.move_to_end(key)
                return self._bases[key]
            if self._split is None:
                try:
                    self._split = split_program(self.program)
                except Unsplittable:
                    self._split = False
            split = self._split
            base = self._ground(facts, now, split) if isinstance(split, StepProgram) else None
            self._bases[key] = base
            while len(self._bases) > self.cache_size:
                self._bases.popitem(last=False)
            return base

    def _ground(self, facts: FactSet, now: int | None, split: StepProgram) -> _Base | None:
        """The base control; None when the KG holds atoms of a predicate only a step holds."""
        started = time.perf_counter()
        messages: list[str] = []
        ctl = clingo.Control(options(self.seed), logger=lambda _c, m: messages.append(m))
        parts = [facts.text(self.program.used_signatures), f"request({DECIDE_GOAL}).\n"]
        if now is not None:
            parts.append(f"now({now}).\n")
        parts += [f"#external {ON}({i}).\n" for i in sorted(self.program.constraints)]
        try:
            ctl.add("base", [], "".join(parts))
            with ast.ProgramBuilder(ctl) as builder:
                for stmt in split.base:
                    builder.add(stmt)
            ctl.ground([("base", [])])
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise SolveError(f"grounding failed: {detail}") from exc
        atoms = ctl.symbolic_atoms
        if any(next(iter(atoms.by_signature(n, a)), None) for n, a in split.alone):
            return None
        on = {i: clingo.Function(ON, [clingo.Number(i)]) for i in self.program.constraints}
        for sym in on.values():
            ctl.assign_external(sym, None)
        trace = Trace(ctl, self.program)
        settled = Settled(set(trace.dynamic_signatures()) | split.step_heads)
        return _Base(ctl, trace, on, (time.perf_counter() - started) * 1000, settled, split)

    # one step -------------------------------------------------------------------------------

    def _step(self, base: _Base, k: int, proposed: clingo.Symbol, reach: Reach | None) -> Answer:
        ctl = base.control
        started = time.perf_counter()
        name = f"__step{k}"
        try:
            ctl.add(name, [], base.split.step(k, str(proposed)))
            ctl.ground([(name, [])])
        except RuntimeError as exc:
            raise SolveError(f"grounding the decision failed: {exc}") from exc
        live = clingo.Function(f"__live{k}")
        ctl.assign_external(live, True)
        try:
            return self._solve(base, k, started, reach)
        finally:
            ctl.release_external(live)

    def _solve(self, base: _Base, k: int, started: float, reach: Reach | None) -> Answer:
        ctl = base.control
        fired: list[tuple[clingo.Symbol, int, Key]] = []
        outputs: list[tuple[clingo.Symbol, int, str]] = []
        for atom in ctl.symbolic_atoms.by_signature(f"__s{k}", 1):
            sym = atom.symbol.arguments[0]
            name = sym.name
            if name == FIRED:
                args = sym.arguments
                key = (args[0].number, args[1].number)
                if not base.is_static(key, sym._rep):
                    fired.append((sym, atom.literal, key))
            elif name in _READ:
                outputs.append((sym, atom.literal, name))
        trace = base.trace.with_dynamic(fired, base.settled)
        ground_ms = (time.perf_counter() - started) * 1000
        assumptions = [(sym, True) for _i, sym in sorted(base.on.items())]
        state: dict[str, Any] = {}

        def on_model(model: clingo.Model) -> None:
            shown, names = trace.shown(shown_values(model))
            seen = {s._rep for s in shown}
            for sym, lit, name in outputs:
                if sym._rep not in seen and model.is_true(lit):
                    seen.add(sym._rep)
                    shown.append(sym)
                    names.append(name)
            state["shown"], state["names"] = shown, names
            if reach is None:
                state["fired"] = trace.fired(model, ())
            else:
                state["fired"] = trace.reachable(model, reach, shown, names)
            state["cost"] = tuple(model.cost)
            state["proven"] = model.optimality_proven

        solve_started = time.perf_counter()
        handle = ctl.solve(assumptions=assumptions, on_model=on_model, async_=True)
        with handle:
            if not finished(handle, solve_started + self.time_limit):
                handle.cancel()
                raise SolveError(
                    f"solver ran past its time limit of {self.time_limit:g} s",
                    code="solve_timeout",
                )
            result = handle.get()
        solve_ms = (time.perf_counter() - solve_started) * 1000
        if not result.satisfiable:
            # the caller works out the conflict on a control of its own
            return Answer(False, True, (), (), (), (), None, (), True, ground_ms, solve_ms)
        shown: list[clingo.Symbol] = state["shown"]
        kinds: list[str] = state["names"]
        costs = [s for s, n in zip(shown, kinds, strict=True) if n == COST]
        ordered = trace.sort_shown([(s, n) for s, n in zip(shown, kinds, strict=True) if n != COST])
        return Answer(
            satisfiable=True,
            optimal=bool(result.exhausted or state["proven"] or not state["cost"]),
            cost=state["cost"],
            shown=tuple(s for s, _n in ordered),
            fired=tuple(state["fired"]),
            costs=tuple(sorted(costs)),
            atoms=None,
            core=(),
            reused=k > 0,
            ground_ms=base.ground_ms + ground_ms if k == 0 else ground_ms,
            solve_ms=solve_ms,
            trace=trace,
            names=tuple(n for _s, n in ordered),
        )
