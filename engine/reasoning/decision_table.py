"""Every candidate action's decision grounded at once, each in its own world, then looked up.

Why: the warm decision control declares every candidate as a choice (``{ proposed(A) }.``) and
clasp assigns every candidate's atoms on every solve, whichever one is asked about: 16 ms a
decision at 100k triples, 247 ms at 1M. Adding each request's part to a grounded base as a
clingo step cost more: every step grounds, prepares and releases in time proportional to the
base (bench/findings.md, round 6). Decide mode, though, needs no search: with the plan's rules
dead (they are conditioned on another ``request``), a proposed action's consequences follow
by grounding alone. So the split program (``worlds``) is grounded once per fact revision and
clock with every candidate proposed at once, each in its own world (``__s(K, atom)``: ``atom``
holds when ``K`` is proposed; the tag keeps worlds apart), and a decision is a lookup of its
world's atoms: its outputs, costs and rule instances.

A world that the grounder could not settle (an atom that is not a fact: a choice, an
unstratified negation), one whose constraints fail (``__s(K, __conflict)``), a candidate
outside the declared domain, a request with parameters and a program the split cannot handle
are all answered by the warm control, as before (``solve`` returns None).
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import clingo
from clingo import ast

from engine.errors import SolveError
from engine.memory import give_back_freed_memory
from engine.reasoning.clingo_c import Symbols, atoms
from engine.reasoning.facts import FactSet
from engine.reasoning.request import DECIDE_GOAL, Request
from engine.reasoning.settled import Settled
from engine.reasoning.solve import Answer, options
from engine.reasoning.trace import Trace, shown_values, sort_fired
from engine.reasoning.transform import COST, FIRED, ON, OUTPUTS, Program
from engine.reasoning.worlds import (
    CANDIDATE,
    CONFLICT,
    TAG,
    SplitProgram,
    Unsplittable,
    split_program,
)

_SHOWN = frozenset(name for name, _arity in OUTPUTS) | {COST}


@dataclass
class _Table:
    """One grounding of every candidate's world."""

    trace: Trace  # the base's instances, with settled proofs that allow for every world
    # by the candidate's symbol value, its atoms' values: plain numbers, not 1M Symbol objects
    # at 1M triples (clingo keeps every symbol; a decision wraps the few of its world)
    worlds: dict[int, array[int]]
    unsettled: frozenset[int]  # candidates whose world holds an atom that is not a fact
    levels: tuple[int, ...]  # the cost priorities of the whole grounding, highest first
    base_shown: tuple[tuple[clingo.Symbol, str], ...]
    ground_ms: float
    asked: int = 0


class DecisionTable:
    """Decisions looked up in a grounding of every candidate's world (thread-safe)."""

    def __init__(self, program: Program, *, seed: int, cache_size: int = 2) -> None:
        self.program = program
        self.seed = seed
        self.cache_size = cache_size
        self._split = _split_or_none(program)  # AST work on a few dozen rules: at once
        self._tables: OrderedDict[tuple[str, int | None], _Table | None] = OrderedDict()
        self._lock = threading.Lock()
        self.served = 0  # decisions answered from a table

    def solve(
        self,
        facts: FactSet,
        request: Request,
        candidates: Callable[[], Collection[clingo.Symbol]],
    ) -> Answer | None:
        """The decision on ``request``'s proposed action, or None when the warm control must
        answer it (see the module docstring). ``candidates``: the warm decision control's
        declared inputs, asked for only when a table is grounded."""
        if request.goal != DECIDE_GOAL or request.params or request.proposed is None:
            return None
        table = self._table(facts, request.now, candidates)
        if table is None:
            return None
        started = time.perf_counter()
        key = request.proposed._rep
        world = table.worlds.get(key)
        if world is None or key in table.unsettled:
            return None
        shown = list(table.base_shown)
        fired: list[clingo.Symbol] = []
        for value in world:
            atom = clingo.Symbol(value)  # type: ignore[no-untyped-call]
            name = atom.name
            if name == FIRED:
                fired.append(atom)
            elif name == CONFLICT:
                return None
            elif name in _SHOWN:
                shown.append((atom, name))
        costs = sorted(s for s, n in shown if n == COST)
        totals = dict.fromkeys(table.levels, 0)
        for c in costs:
            level, weight = c.arguments[0].number, c.arguments[1].number
            totals[level] += weight
        outputs = table.trace.sort_shown(_unique([(s, n) for s, n in shown if n != COST]))
        table.asked += 1
        self.served += 1
        return Answer(
            satisfiable=True,
            optimal=True,  # grounding decided every atom of the world: its only model
            cost=tuple(totals[level] for level in table.levels),
            shown=tuple(s for s, _n in outputs),
            fired=tuple(sort_fired(fired)),
            costs=tuple(costs),
            atoms=None,
            core=(),
            reused=table.asked > 1,
            ground_ms=table.ground_ms,
            solve_ms=(time.perf_counter() - started) * 1000,
            trace=table.trace,
            names=tuple(n for _s, n in outputs),
        )

    # the table ------------------------------------------------------------------------------

    def _table(
        self, facts: FactSet, now: int | None, candidates: Callable[[], Collection[clingo.Symbol]]
    ) -> _Table | None:
        key = (facts.revision, now)
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
            split = self._split
            table = None if split is None else self._ground(facts, now, split, candidates())
            give_back_freed_memory()  # the grounding's control is gone
            self._tables[key] = table
            while len(self._tables) > self.cache_size:
                self._tables.popitem(last=False)
            return table

    def _ground(
        self,
        facts: FactSet,
        now: int | None,
        split: SplitProgram,
        candidates: Collection[clingo.Symbol],
    ) -> _Table | None:
        """Ground every candidate's world; None when the grounding cannot serve decisions
        (the KG holds atoms of a world-only predicate, the base has costs or no model)."""
        started = time.perf_counter()
        messages: list[str] = []
        ctl = clingo.Control(options(self.seed), logger=lambda _c, m: messages.append(m))
        proposed = sorted(c.arguments[0] for c in candidates if c.name == "proposed")
        parts = [facts.text(self.program.used_signatures), f"request({DECIDE_GOAL}).\n"]
        if now is not None:
            parts.append(f"now({now}).\n")
        parts += [f"#external {ON}({i}).\n" for i in sorted(self.program.constraints)]
        parts += [f"{CANDIDATE}({p}).\n" for p in proposed]
        parts.append(split.text())
        try:
            ctl.add("base", [], "".join(parts))
            with ast.ProgramBuilder(ctl) as builder:
                for stmt in split.base:
                    builder.add(stmt)
            ctl.ground([("base", [])])
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise SolveError(f"grounding failed: {detail}") from exc
        grounded = ctl.symbolic_atoms
        if any(next(iter(grounded.by_signature(n, a)), None) for n, a in split.alone):
            return None
        on = [clingo.Function(ON, [clingo.Number(i)]) for i in sorted(self.program.constraints)]
        for sym in on:
            ctl.assign_external(sym, None)
        base_shown: list[tuple[clingo.Symbol, str]] = []
        trace = Trace(ctl, self.program)

        def on_model(model: clingo.Model) -> None:
            shown, names = trace.shown(shown_values(model))
            base_shown[:] = list(zip(shown, names, strict=True))

        result = ctl.solve(assumptions=[(sym, True) for sym in on], on_model=on_model)
        if not result.satisfiable or any(n == COST for _s, n in base_shown):
            return None
        worlds, unsettled, levels = _read_worlds(ctl)
        settled = Settled(set(trace.dynamic_signatures()) | split.world_heads)
        return _Table(
            trace=trace.with_settled(settled),
            worlds=worlds,
            unsettled=unsettled,
            levels=levels,
            base_shown=tuple(base_shown),
            ground_ms=(time.perf_counter() - started) * 1000,
        )  # the control goes: clingo keeps every symbol, and the trace holds what it read


def _split_or_none(program: Program) -> SplitProgram | None:
    """The program's split, or None when it cannot be split (the warm control decides)."""
    try:
        return split_program(program)
    except Unsplittable:
        return None


def _unique(pairs: Sequence[tuple[clingo.Symbol, str]]) -> list[tuple[clingo.Symbol, str]]:
    seen: set[int] = set()
    out = []
    for pair in pairs:
        if pair[0]._rep not in seen:
            seen.add(pair[0]._rep)
            out.append(pair)
    return out


def _read_worlds(
    ctl: clingo.Control,
) -> tuple[dict[int, array[int]], frozenset[int], tuple[int, ...]]:
    """Every world's atoms (symbol values, by the candidate's value), the candidates whose
    world holds an atom that is not a fact, and the grounding's cost priorities (highest
    first). Read through clingo's C API (``clingo_c``): 1M atoms at 1M triples, 8 s through
    the Python wrappers."""
    read = Symbols()
    cost = COST.encode()
    worlds: dict[int, array[int]] = {}
    unsettled: set[int] = set()
    levels: set[int] = set()
    for symbol, fact, _literal in atoms(ctl, TAG, 2):
        world, inner = read.first_two(symbol)
        found = worlds.get(world)
        if found is None:
            found = worlds[world] = array("Q")
        found.append(inner)
        if not fact:
            unsettled.add(world)
        if read.name(inner) == cost:  # ``__cost(P, W, T)``: its priority P
            levels.add(read.number(read.first_two(inner)[0]))
    return worlds, frozenset(unsettled), tuple(sorted(levels, reverse=True))
