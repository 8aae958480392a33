"""Ground once, solve many: warm clingo controls per (rules, facts, clock) and deterministic solves.

Why warm controls work: clingo never re-fires rules grounded in an earlier step for facts added
later, so every request input must exist when the program is grounded. The engine declares them
as choice atoms (``{ proposed(A) }.``) over a candidate domain taken from the facts:
``request(G)`` for every ``@goal`` (and ``decide``), ``param(N, V)`` for every value of the
declared type that occurs in the facts, ``proposed(A)`` for every ``@action`` over its
arguments' domains (when that product stays under ``domain_cap``). Plans and decisions have
warm controls of their own (``domain``); most decisions never reach theirs: the reasoner
looks them up in a grounding of every candidate's world (``decision_table``). ``now(T)`` is
part of the cache key (it changes once a day). A request whose inputs all lie inside the
domain is answered by the warm control with the inputs as solver assumptions (milliseconds);
any other request gets a control grounded for exactly its inputs (correct, as slow as a fresh
solve), also cached. The inputs stay free; at most one member of each input family holds
(``_selection_rules``), so a request changes no truth value and starts no program update
(``_Grounded.selection``). Choice atoms, not ``#external`` ones: a free external and an atom
of a choice rule mean the same, but clasp prepares every external again on each solve (18k
declared decision inputs at 100k triples: 5 ms of each solve).

Determinism: one thread, a fixed seed, ``--opt-strategy=usc`` (branch-and-bound did not prove
optimality in 60 s on a 100k-triple KG), sorted facts, and ``--forget-on-step`` so a warm
control forgets what earlier requests taught its heuristics.

clingo never frees symbols: a long-running process grows with each new fact set; recycle
worker processes.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product
from typing import TypeVar

import clingo
from clingo import ast

from engine.errors import SolveError
from engine.reasoning.astutil import render
from engine.reasoning.facts import FALSE, TRUE, FactSet
from engine.reasoning.request import DECIDE_GOAL, Request
from engine.reasoning.rules import ParamType, RuleSet
from engine.reasoning.trace import Reach, Trace, shown_values, sort_symbols
from engine.reasoning.transform import (
    COST,
    ON,
    SELECTED,
    TRUE_FIRED,
    Program,
    TraceScope,
    compile_program,
)

Assumption = tuple[clingo.Symbol, bool]
T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """What one solve returned: the best model's outputs, trace atoms, cost and core."""

    satisfiable: bool
    optimal: bool
    cost: tuple[int, ...]
    shown: tuple[clingo.Symbol, ...]
    fired: tuple[clingo.Symbol, ...]
    costs: tuple[clingo.Symbol, ...]
    atoms: tuple[clingo.Symbol, ...] | None
    core: tuple[clingo.Symbol, ...]
    reused: bool
    ground_ms: float
    solve_ms: float
    trace: Trace | None = field(default=None, compare=False, repr=False)
    names: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # a plan's findings fixed by grounding, not in ``shown`` (which holds the open ones)
    fixed: FixedFindings | None = field(default=None, compare=False, repr=False)

    def named(self, names: Collection[str]) -> list[clingo.Symbol]:
        """The shown atoms whose predicate is one of ``names``, in ``shown`` order.

        ``names`` holds each shown atom's predicate name, read once: ``Symbol.name`` is a cffi
        call, and the plan's several passes over the shown atoms paid it each time.
        """
        return [s for s, n in zip(self.shown, self.names, strict=True) if n in names]

    def text(self, symbol: clingo.Symbol) -> str:
        """``str(symbol)``, kept per grounding: a decision lists every finding, the same
        thousands of atoms request after request, and each ``str`` is two cffi calls."""
        if self.trace is None:
            return str(symbol)
        texts = self.trace.texts  # keyed by clingo's symbol value: no cffi hash / equality
        found = texts.get(symbol._rep)
        if found is None:
            found = texts[symbol._rep] = str(symbol)
        return found

    def rendered(self, symbol: clingo.Symbol) -> str:
        """``astutil.render(symbol)``, kept per grounding (the plan's cost terms repeat)."""
        if self.trace is None:
            return render(symbol)
        renders = self.trace.renders
        found = renders.get(symbol._rep)
        if found is None:
            found = renders[symbol._rep] = render(symbol)
        return found

    def all_fired(self) -> tuple[clingo.Symbol, ...]:
        """Every fired instance: those fixed by grounding plus this model's own."""
        static = self.trace.static if self.trace is not None else ()
        return static + self.fired


@dataclass
class _Grounded:
    control: clingo.Control
    inputs: frozenset[clingo.Symbol]
    on: dict[int, clingo.Symbol]
    ground_ms: float
    trace: Trace
    selectors: dict[clingo.Symbol, clingo.Symbol] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    off: frozenset[int] = frozenset()
    findings: _Findings | None = None
    deciding: bool = False

    def found(self, program: Program) -> _Findings:
        """The grounding's finding atoms, read once (callers hold the lock)."""
        if self.findings is None:
            self.findings = _Findings.of(self.control, program.finding_signatures)
        return self.findings

    def settle(self, on: Collection[int]) -> None:
        """Switch off the guarded constraints not in ``on``, changing only what differs from
        the last solve (only core minimisation switches constraints off)."""
        off = frozenset(i for i in self.on if i not in on)
        for i in sorted(self.off - off):
            self.control.assign_external(self.on[i], None)
        for i in sorted(off - self.off):
            self.control.assign_external(self.on[i], False)
        self.off = off

    def selection(self, inputs: Collection[clingo.Symbol]) -> list[Assumption]:
        """Assumptions that make exactly ``inputs`` true among the declared request inputs.

        The inputs stay free for good (choice atoms). Fixing them would take externals and
        ``assign_external``, which starts a program update, and clasp applies every external
        fixed false as one more assumption, each its own decision level and propagation, on
        every solve (8.8k of them at 10k triples, most of a warm decision's time, when
        inputs were fixed that way). Instead each input family (``request``,
        ``param(N)``, ``proposed``) holds at most one member (a cardinality constraint
        grounded with the program), so assuming the requested one true fixes the rest in
        one propagation; a family with no requested input has its selector atom assumed
        false, which makes every member false.
        """
        out: list[Assumption] = [(s, True) for s in inputs]
        chosen = {_family(s) for s in inputs}
        out += [(atom, False) for fam, atom in self.selectors.items() if fam not in chosen]
        return out


@dataclass(frozen=True)
class FixedFindings:
    """The findings a plan grounding made facts: true in every model, in clingo's order.

    They are most of a plan's findings (5.5k at 100k triples, 55k at 1M) and the same object
    request after request, so each consumer builds its part of an answer from them once (the
    plan's finding texts, the proofs' settled part) instead of walking them on every request.
    """

    symbols: tuple[clingo.Symbol, ...]

    @cached_property
    def texts(self) -> tuple[str, ...]:
        """``str`` of each finding (a cffi call each), made on first use."""
        return tuple(str(s) for s in self.symbols)

    @cached_property
    def values(self) -> frozenset[int]:
        """The findings' clingo symbol values, made on first use."""
        return frozenset(s._rep for s in self.symbols)


@dataclass(frozen=True)
class _Findings:
    """A plan control's finding atoms: those the grounding made facts and those a model may
    or may not hold.

    Findings are not ``#show`` n: most are facts of the KG and reading them out of every
    model, as new symbols, then ordering them, cost more than the solve. A model's findings
    are the fixed ones (``Answer.fixed``) plus the open ones it holds (``Model.contains``,
    merged into ``Answer.shown``).
    """

    fixed: FixedFindings
    open: tuple[tuple[clingo.Symbol, str], ...]

    @classmethod
    def of(cls, ctl: clingo.Control, signatures: Sequence[tuple[str, int]]) -> _Findings:
        static: list[tuple[clingo.Symbol, str]] = []
        open_: list[tuple[clingo.Symbol, str]] = []
        for name, arity in signatures:
            for atom in ctl.symbolic_atoms.by_signature(name, arity):
                (static if atom.is_fact else open_).append((atom.symbol, name))
        static.sort()
        return cls(FixedFindings(tuple(s for s, _n in static)), tuple(open_))

    def held(self, model: clingo.Model) -> list[tuple[clingo.Symbol, str]]:
        """The open findings ``model`` holds."""
        return [pair for pair in self.open if model.contains(pair[0])]


def insertion_points(few: Sequence[clingo.Symbol], many: Sequence[clingo.Symbol]) -> list[int]:
    """Where each of ``few`` goes in ``many`` (both in clingo's symbol order), by binary
    search: each comparison is a cffi call, and a linear merge would compare every atom."""
    points: list[int] = []
    start = 0
    for sym in few:
        start = bisect.bisect_left(many, sym, lo=start)
        points.append(start)
    return points


def merge_at(points: Sequence[int], few: Sequence[T], many: Sequence[T]) -> list[T]:
    """``many`` with ``few[i]`` inserted before ``many[points[i]]`` (``insertion_points``)."""
    out: list[T] = []
    start = 0
    for at, item in zip(points, few, strict=True):
        out.extend(many[start:at])
        out.append(item)
        start = at
    out.extend(many[start:])
    return out


def _merged(
    few: Sequence[tuple[clingo.Symbol, str]], many: Sequence[tuple[clingo.Symbol, str]]
) -> list[tuple[clingo.Symbol, str]]:
    """Two lists of (atom, name) pairs in clingo's symbol order, merged."""
    points = insertion_points([s for s, _n in few], [s for s, _n in many])
    return merge_at(points, few, many)


class Solver:
    """Solves requests over one RuleSet, keeping a small LRU of grounded controls.

    >>> from engine.reasoning.rules import rules_from_texts
    >>> rs = rules_from_texts({"r.lp": '% @goal g "demo"\\nq(X) :- p(X), request(g).'})
    >>> facts = FactSet.from_groups({"p/1": [clingo.Function("p", [clingo.Number(1)])]})
    >>> Solver(rs).solve(facts, Request("g")).satisfiable
    True
    """

    def __init__(
        self,
        rules: RuleSet,
        *,
        time_limit: float = 10.0,
        cache_size: int = 4,
        seed: int = 0,
        trace: TraceScope = TraceScope.OUTPUTS,
        domain_cap: int = 250_000,
    ) -> None:
        rules.raise_for_errors()
        self.rules = rules
        self.program: Program = compile_program(rules, trace=trace)
        self.time_limit = time_limit
        self.cache_size = cache_size
        self.seed = seed
        self.domain_cap = domain_cap
        self._cache: OrderedDict[tuple[object, ...], _Grounded] = OrderedDict()
        self._cache_lock = threading.Lock()

    def cached(self) -> int:
        """How many grounded controls are kept."""
        with self._cache_lock:
            return len(self._cache)

    def solve(
        self,
        facts: FactSet,
        request: Request,
        *,
        extra: Sequence[Assumption] = (),
        constraints: Collection[int] | None = None,
        inputs: Collection[clingo.Symbol] | None = None,
        all_atoms: bool = False,
        reach: Reach | None = None,
    ) -> Answer:
        """Solve ``request`` over ``facts``; ``constraints`` / ``inputs`` restrict which
        guarded constraints and request inputs are on (for core minimisation), ``extra`` adds
        assumptions (why-not), ``reach`` reads only the fired instances proofs of its roots
        can use. Raises SolveError when the time limit passes."""
        grounded, reused = self._grounded(facts, request)
        active_inputs = request.inputs() if inputs is None else tuple(inputs)
        active_on = set(grounded.on) if constraints is None else set(constraints)
        with grounded.lock:
            known = grounded.control.symbolic_atoms
            missing = [s for s, v in extra if v and known[s] is None]
            extra_ok = [(s, v) for s, v in extra if known[s] is not None]
            return self._run(
                grounded, reused, active_inputs, active_on, extra_ok, missing, all_atoms, reach
            )

    def _run(
        self,
        g: _Grounded,
        reused: bool,
        inputs: Sequence[clingo.Symbol],
        on: set[int],
        extra: Sequence[Assumption],
        missing: Sequence[clingo.Symbol],
        all_atoms: bool,
        reach: Reach | None,
    ) -> Answer:
        ctl = g.control
        assumptions = g.selection(inputs)
        assumptions += [(sym, True) for i, sym in sorted(g.on.items()) if i in on]
        assumptions += list(extra)
        if missing:
            # an assumed atom that the grounder never produced cannot hold
            return Answer(False, True, (), (), (), (), None, tuple(missing), reused, g.ground_ms, 0)
        g.settle(on)
        state: dict[str, object] = {}
        # the input selectors and the trace's markers are the engine's atoms, not the program's
        # (by value: no cffi call per atom)
        hidden = (
            {a._rep for a in g.selectors.values()} | set(g.trace.markers()) if all_atoms else set()
        )

        findings = None if g.deciding else g.found(self.program)

        def on_model(model: clingo.Model) -> None:
            values = shown_values(model)
            shown, names = g.trace.shown(values)
            state["shown"], state["names"] = shown, names
            if findings is not None:
                state["held"] = findings.held(model)
            if reach is None:
                state["fired"] = g.trace.fired(model, values)
            else:
                state["fired"] = g.trace.reachable(model, reach, shown, names)
            state["cost"] = tuple(model.cost)
            state["proven"] = model.optimality_proven
            if all_atoms:
                state["atoms"] = [a for a in model.symbols(atoms=True) if a._rep not in hidden]

        core: list[int] = []
        started = time.perf_counter()
        handle = ctl.solve(assumptions=assumptions, on_model=on_model, async_=True)
        with handle:
            if not _finished(handle, started + self.time_limit):
                handle.cancel()
                raise SolveError(
                    f"solver ran past its time limit of {self.time_limit:g} s",
                    code="solve_timeout",
                )
            result = handle.get()
            if result.unsatisfiable:
                core = list(handle.core())  # on_core is not called for async solves
        solve_ms = (time.perf_counter() - started) * 1000
        if not result.satisfiable:
            return Answer(
                False,
                True,
                (),
                (),
                (),
                (),
                None,
                self._core(ctl, assumptions, core, frozenset(g.selectors.values())),
                reused,
                g.ground_ms,
                solve_ms,
            )
        shown: list[clingo.Symbol] = list(state.get("shown", []))  # type: ignore[call-overload]
        atoms = state.get("atoms")
        kinds: list[str] = state.get("names", [])  # type: ignore[assignment]
        costs = [s for s, n in zip(shown, kinds, strict=True) if n == COST]
        outputs = g.trace.sort_shown(
            [(s, n) for s, n in zip(shown, kinds, strict=True) if n != COST]
        )
        if findings is not None:
            held: list[tuple[clingo.Symbol, str]] = state.get("held", [])  # type: ignore[assignment]
            outputs = _merged(sorted(held), outputs)
        return Answer(
            satisfiable=True,
            # no cost (nothing to minimise grounded, e.g. no actions possible): clasp stops at
            # the first model without calling it optimal, but every model is then as good
            optimal=bool(result.exhausted or state.get("proven") or not state.get("cost")),
            cost=state.get("cost", ()),  # type: ignore[arg-type]
            shown=tuple(s for s, _n in outputs),
            fired=tuple(state.get("fired", ())),  # type: ignore[arg-type]
            costs=tuple(sorted(costs)),
            atoms=None if atoms is None else tuple(sorted(atoms)),  # type: ignore[call-overload]
            core=(),
            reused=reused,
            ground_ms=g.ground_ms,
            solve_ms=solve_ms,
            trace=g.trace,
            names=tuple(n for _s, n in outputs),
            fixed=None if findings is None else findings.fixed,
        )

    @staticmethod
    def _core(
        ctl: clingo.Control,
        assumptions: Sequence[Assumption],
        core: Sequence[int],
        selectors: Collection[clingo.Symbol],
    ) -> tuple[clingo.Symbol, ...]:
        """The core filtered to our own assumptions (clingo adds internal literals; the
        input selectors stand for "no other input", which is no assumption of the request)."""
        wanted = set(core)
        out = []
        for sym, value in assumptions:
            if sym in selectors:
                continue
            atom = ctl.symbolic_atoms[sym]
            if atom is not None and (atom.literal if value else -atom.literal) in wanted:
                out.append(sym)
        return tuple(out)

    # grounding -----------------------------------------------------------------------------

    def _grounded(self, facts: FactSet, request: Request) -> tuple[_Grounded, bool]:
        inputs = frozenset(request.inputs())
        deciding = request.goal == DECIDE_GOAL
        warm_key = (facts.revision, request.now, "decide" if deciding else "plan")
        with self._cache_lock:
            warm = self._cache.get(warm_key)
            if warm is not None and inputs <= warm.inputs:
                self._cache.move_to_end(warm_key)
                return warm, True
            if warm is None:
                domain = self.domain(facts, deciding=deciding)
                if inputs <= domain:
                    return self._store(warm_key, self._ground(facts, request.now, domain)), False
            own_key = (facts.revision, request.now, tuple(sorted(inputs)))
            own = self._cache.get(own_key)
            if own is not None:
                self._cache.move_to_end(own_key)
                return own, True
            return self._store(own_key, self._ground(facts, request.now, inputs)), False

    def _store(self, key: tuple[object, ...], grounded: _Grounded) -> _Grounded:
        self._cache[key] = grounded
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return grounded

    def domain(self, facts: FactSet, *, deciding: bool) -> frozenset[clingo.Symbol]:
        """Every request input a warm control declares, from the facts' values.

        Plans and decisions get warm controls of their own: a plan control declares the
        goals and no ``proposed`` action, a decision control ``request(decide)`` and the
        proposed actions but no goal, so that the grounder drops every rule of the other
        mode (rules conditioned on ``request(<goal>)`` ground to nothing in a decision
        control) and each solve propagates only its own mode's program.

        A value declared ``in <class>`` ranges over that unary predicate's members; any
        other over every value of its type in the facts (every string for an ``iri``). The
        declared inputs are the grounding's size: at 100k triples "every string" made ~80k
        of them, five times over for the action types.
        """
        strings: set[clingo.Symbol] = set()
        numbers: set[clingo.Symbol] = set()
        members: dict[str, set[clingo.Symbol]] = {}
        for atom in facts.atoms:
            args = atom.arguments
            for arg in args:
                if arg.type == clingo.SymbolType.String:
                    strings.add(arg)
                elif arg.type == clingo.SymbolType.Number:
                    numbers.add(arg)
            if len(args) == 1:
                members.setdefault(atom.name, set()).add(args[0])

        def values(kind: ParamType, domain: str | None) -> list[clingo.Symbol]:
            if kind == "bool":
                return [FALSE, TRUE]
            pool = strings if kind in ("iri", "string") else numbers
            if domain is not None:
                pool = pool & members.get(domain, set())
            return sorted(pool)

        if deciding:
            out = [clingo.Function("request", [clingo.Function(DECIDE_GOAL)])]
        else:
            out = [clingo.Function("request", [clingo.Function(g.name)]) for g in self.rules.goals]
        for p in self.rules.params:
            vals = values(p.type, p.domain)
            if len(vals) <= self.domain_cap:
                name = clingo.Function(p.name)
                out += [clingo.Function("param", [name, v]) for v in vals]
        for a in self.rules.actions if deciding else ():
            domains = [values(t, a.domain(i)) for i, (_v, t) in enumerate(a.args)]
            size = 1
            for d in domains:
                size *= len(d)
            if size <= self.domain_cap:
                out += [
                    clingo.Function("proposed", [clingo.Function(a.name, list(args))])
                    for args in product(*domains)
                ]
        return frozenset(out)

    def _ground(
        self, facts: FactSet, now: int | None, inputs: frozenset[clingo.Symbol]
    ) -> _Grounded:
        started = time.perf_counter()
        messages: list[str] = []
        ctl = clingo.Control(options(self.seed), logger=lambda _c, m: messages.append(m))
        parts = [facts.text(self.program.used_signatures)]
        if now is not None:
            parts.append(f"now({now}).\n")
        ordered = sort_symbols(inputs)  # by Python keys: one clingo comparison per pair
        texts = [str(s) for s in ordered]
        parts += [f"{{ {t} }}.\n" for t in texts]
        # one input per family (its predicate, and a parameter's name) by text, not cffi
        heads = {
            t.partition(",")[0] if t.startswith("param(") else t.partition("(")[0]: s
            for s, t in zip(ordered, texts, strict=True)
        }
        families = sorted({_family(s) for s in heads.values()})
        parts += [_selection_rules(fam) for fam in families]
        parts += [f"#external {ON}({i}).\n" for i in sorted(self.program.constraints)]
        deciding = clingo.Function("request", [clingo.Function(DECIDE_GOAL)]) in inputs
        if not deciding:  # a decision reads only the instances its proofs reach (``Reach``)
            parts.append(f"#show {TRUE_FIRED}/1.\n")
        try:
            ctl.add("base", [], "".join(parts))
            with ast.ProgramBuilder(ctl) as builder:
                for stmt in self.program.statements:
                    builder.add(stmt)
            ctl.ground([("base", [])])
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise SolveError(f"grounding failed: {detail}") from exc
        on = {i: clingo.Function(ON, [clingo.Number(i)]) for i in self.program.constraints}
        for sym in on.values():
            ctl.assign_external(sym, None)
        selectors = {
            fam: atom
            for fam in families
            if ctl.symbolic_atoms[atom := clingo.Function(SELECTED, [fam])] is not None
        }
        trace = Trace(ctl, self.program)
        if not deciding:
            trace.show_dynamic(ctl)
        return _Grounded(
            ctl,
            inputs,
            on,
            (time.perf_counter() - started) * 1000,
            trace,
            selectors,
            deciding=deciding,
        )


def options(seed: int) -> list[str]:
    """clingo's options for every control the engine grounds (see the module docstring)."""
    return [
        "--opt-strategy=usc",
        f"--seed={seed}",
        "--parallel-mode=1",
        "--forget-on-step=varScores,signs,lemmaScores,lemmas",
        "--warn=none",
    ]


def _finished(handle: clingo.SolveHandle, deadline: float) -> bool:
    """Wait for the solve to finish by ``deadline`` (a ``time.perf_counter`` value).

    ``SolveHandle.wait(t)`` can return False before ``t`` passes (clasp's wait on a condition
    variable, woken early): on a busy machine whole runs of 20 s failed with "ran past its
    time limit of 60 s". Wait again for the rest of the time until the search is done.
    """
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return bool(handle.wait(0))
        if handle.wait(left):
            return True


def _family(sym: clingo.Symbol) -> clingo.Symbol:
    """The family of a request input, of which a request holds at most one member:
    ``request``, ``param(N)`` per parameter name, ``proposed``."""
    if sym.name == "param":
        return clingo.Function("param", [sym.arguments[0]])
    return clingo.Function(sym.name)


def _selection_rules(family: clingo.Symbol) -> str:
    """At most one member of ``family`` holds, and its selector holds when one does."""
    if family.name == "param":
        name = family.arguments[0]
        return (
            f":- #count {{ V : param({name}, V) }} > 1.\n"
            f"{SELECTED}(param({name})) :- param({name}, V).\n"
        )
    member = f"{family.name}(X)"
    return f":- #count {{ X : {member} }} > 1.\n{SELECTED}({family.name}) :- {member}.\n"
