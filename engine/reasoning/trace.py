"""The ``__fired`` atoms of one grounding and how a model's are read back.

The grounder makes some instances facts (the same in every model: read once per grounding);
the rest are read from each model. A plan's proofs reach most of the model's instances, so
all its true ones are read, from the ``__true(K)`` markers a plan grounding shows
(``Trace.show_dynamic``: one bulk read, not one cffi call per literal); a decision's proofs
reach only what the proposed action's roots depend on, so ``Reach`` checks just those
literals: at 10k triples the 17k dynamic literals cost 4 ms a model, the few hundred
reachable ones well under one.

The static instances are read once per grounding as clingo symbol values, indexed by head per
predicate and parsed per head atom when a proof first reaches it (``Trace.static_index``): a
proof reaches a few of the grounding's tens of thousands of instances.
"""

from __future__ import annotations

import copy
import threading
from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import clingo
from clingo._internal import _ffi, _lib  # type: ignore[attr-defined]

from engine.reasoning.astutil import Signature, atom_signature
from engine.reasoning.clingo_c import Symbols, atoms
from engine.reasoning.proof import (
    FactMemo,
    ParsedInstances,
    RuleInstance,
    StaticIndex,
    head_value,
    parse_instance,
)
from engine.reasoning.settled import Settled
from engine.reasoning.transform import FIRED, TRUE_FIRED, Program


@dataclass(frozen=True)
class Reach:
    """Read only the instances reachable from ``roots`` (chosen among a model's shown atoms),
    stopping at atoms that are ``given`` (facts and request inputs), as proofs do."""

    roots: Callable[[Sequence[clingo.Symbol], Sequence[str]], Collection[clingo.Symbol]]
    given: Callable[[clingo.Symbol], bool]


class Trace:
    """The ``__fired`` atoms of one grounding: those the grounder made facts (the same for every
    request, read once) and the rest with their literals (checked in each model)."""

    def __init__(self, ctl: clingo.Control, program: Program) -> None:
        static, dynamic = _fired_atoms(ctl)
        self.program = program
        self.dynamic = tuple((sym, lit) for sym, lit, _key in dynamic)
        self._dynamic_keys = [key for _sym, _lit, key in dynamic]
        self._static_groups = static
        self._static: tuple[clingo.Symbol, ...] | None = None
        self.parsed: ParsedInstances = {}
        self.texts: dict[int, str] = {}
        self.renders: dict[int, str] = {}
        self._rank: dict[int, int] = {}
        self._shown: dict[int, tuple[clingo.Symbol, str]] = {}
        self.fact_nodes = FactMemo()
        self._index: StaticIndex | None = None
        self._signatures: dict[Signature, list[int]] | None = None
        self._by_head: dict[Signature, dict[int, list[int]]] = {}
        self._signatures_of: dict[int, Signature] = {}
        self._settled: Settled | None = None
        self._marker_index: dict[int, int] | None = None
        self._lock = threading.Lock()

    def show_dynamic(self, ctl: clingo.Control) -> None:
        """Show which dynamic instances hold, so that ``fired`` reads a model's true ones in
        one bulk call (callers: the grounding's owner, before its first solve; the program
        must hold ``#show __true/1.``).

        Checking every dynamic literal one cffi call at a time was a third of a warm one-vendor
        plan at 100k triples (25k literals, 11-105 true). Through the backend, each instance
        gets a marker atom ``__true(K)`` defined by the instance's literal alone: a model then
        lists exactly its true instances among its shown atoms (``shown`` leaves the markers
        out of the outputs). Shows as program text (``#show I : I.``) took 1.3 s to parse and
        ground at 100k; the backend, a fraction of that.
        """
        index: dict[int, int] = {}
        with ctl.backend() as backend:
            for k, (_sym, lit) in enumerate(self.dynamic):
                marker = clingo.Function(TRUE_FIRED, [clingo.Number(k)])
                backend.add_rule([backend.add_atom(marker)], [lit])
                index[marker._rep] = k
        self._marker_index = index

    def with_settled(self, settled: Settled) -> Trace:
        """This grounding's trace with ``settled`` as its settled proofs: a decision table's
        worlds add instances the base's own dynamic ones do not show (``decision_table``).
        Every per-grounding cache is shared."""
        self.static_index(self.program)  # made here, so that both share it
        view = copy.copy(self)
        view._settled = settled
        return view

    def dynamic_signatures(self) -> Collection[Signature]:
        """The head predicates of the dynamic instances."""
        return self._dynamic_signatures().keys()

    def markers(self) -> Collection[int]:
        """The clingo symbol values of the ``__true`` markers (engine atoms, not the program's)."""
        return (self._marker_index or {}).keys()

    def settled(self) -> Settled:
        """The grounding's settled proofs (see ``settled``), created on first use."""
        with self._lock:
            if self._settled is None:
                self._settled = Settled(self._signatures_unlocked().keys())
            return self._settled

    @property
    def static(self) -> tuple[clingo.Symbol, ...]:
        """Every static instance in clingo's order, put in order on first use (proofs read
        them per head predicate instead: see ``static_index``)."""
        with self._lock:
            if self._static is None:
                self._static = tuple(
                    sym
                    for key in sorted(self._static_groups)
                    for sym in _ordered(self._static_groups[key])
                )
            return self._static

    def static_index(self, program: Program) -> StaticIndex:
        """The static instances by head atom, created on first use (proofs only), indexed
        per head predicate and parsed per head atom as proofs reach them."""
        with self._lock:
            if self._index is None:
                by_signature = _static_signatures(program, self._static_groups)

                def load(signature: Signature) -> Iterator[int]:
                    return (rep for group in by_signature.get(signature, ()) for rep in group)

                self._index = StaticIndex(program, load)
            return self._index

    def shown(self, values: Sequence[int]) -> tuple[list[clingo.Symbol], list[str]]:
        """A model's shown atoms and their predicate names, from their values (``shown_values``;
        callers hold the grounding's lock).

        ``Model.symbols`` wraps each of thousands of atoms (every finding, request after
        request) in a new Symbol, and each name is one more cffi call: the atoms are read as
        clingo's symbol values and those already met on this grounding are reused with their
        name. Keys are the values themselves: clingo interns symbols, so two symbols are equal
        exactly when their values are (``Symbol.__eq__`` compares them in C).
        """
        known = self._shown
        instances = self._marker_index or {}
        symbols: list[clingo.Symbol] = []
        names: list[str] = []
        for rep in values:
            if rep in instances:
                continue
            found = known.get(rep)
            if found is None:
                sym = clingo.Symbol(rep)  # type: ignore[no-untyped-call]
                found = known[rep] = (sym, sym.name)
            symbols.append(found[0])
            names.append(found[1])
        return symbols, names

    def sort_shown(self, shown: list[tuple[clingo.Symbol, str]]) -> list[tuple[clingo.Symbol, str]]:
        """``shown`` in clingo's symbol order (callers hold the grounding's lock).

        Successive answers of one grounding share most of their shown atoms (a decision shows
        every finding), and each clingo comparison is a cffi call: atoms ranked by the last
        answer are ordered by that rank (keyed by symbol value), the new ones by clingo, and
        the two runs merged.
        """
        ranked: list[tuple[int, tuple[clingo.Symbol, str]]] = []
        new: list[tuple[clingo.Symbol, str]] = []
        ranks = self._rank
        for pair in shown:
            rank = ranks.get(pair[0]._rep)
            if rank is None:
                new.append(pair)
            else:
                ranked.append((rank, pair))
        ranked.sort(key=lambda r: r[0])
        known = [pair for _r, pair in ranked]
        if not new:
            self._rank = {p[0]._rep: k for k, p in enumerate(known)}
            return known
        new.sort(key=lambda p: p[0])
        merged: list[tuple[clingo.Symbol, str]] = []
        i = j = 0
        while i < len(known) and j < len(new):
            if new[j][0] < known[i][0]:
                merged.append(new[j])
                j += 1
            else:
                merged.append(known[i])
                i += 1
        merged += known[i:]
        merged += new[j:]
        self._rank = {p[0]._rep: k for k, p in enumerate(merged)}
        return merged

    def fired(self, model: clingo.Model, values: Sequence[int]) -> list[clingo.Symbol]:
        """The dynamic instances true in ``model`` (``values``: its shown atoms' values), in the
        trace's order.

        ``Model.is_true`` allocates a cffi out-parameter and checks errors per call, which
        made this loop most of a warm decision's solve time; one out-parameter, reused,
        reads the same truth values about 4x faster; once ``show_dynamic`` has run, the true
        instances are picked from the model's shown atoms instead.
        """
        instances = self._marker_index
        if instances is not None:
            picked = sorted(k for rep in values if (k := instances.get(rep)) is not None)
            return [self.dynamic[k][0] for k in picked]
        read = _Reader(model)
        return [sym for sym, lit in self.dynamic if read(lit)]

    def reachable(
        self,
        model: clingo.Model,
        reach: Reach,
        shown: Sequence[clingo.Symbol],
        names: Sequence[str],
    ) -> list[clingo.Symbol]:
        """The dynamic instances true in ``model`` that proofs of ``reach.roots`` can use
        (``shown`` and their predicate ``names`` are the model's shown atoms).

        The same instances, in the same order, as ``fired`` restricted to those whose heads a
        proof walks to (breadth-first from the roots through true instances, not past given
        atoms), so the proofs built from either are identical.
        """
        static = self.static_index(self.program)
        by_signature = self._dynamic_signatures()
        read = _Reader(model)
        roots = reach.roots(shown, names)
        seen = {r._rep for r in roots}  # clingo symbol values: no cffi hash per atom
        queue = deque(roots)
        picked: list[int] = []
        while queue:
            atom = queue.popleft()
            if reach.given(atom):
                continue
            children: list[clingo.Symbol] = []
            for inst in static.of(atom):
                children += inst.positive
            heads = self._heads(self._signature(atom), by_signature)
            for k in heads.get(atom._rep, ()):
                sym, lit = self.dynamic[k]
                if read(lit):
                    picked.append(k)
                    found = self._parsed(sym)
                    assert found is not None
                    children += found.positive
            for child in children:
                if child._rep not in seen:
                    seen.add(child._rep)
                    queue.append(child)
        return [self.dynamic[k][0] for k in sorted(picked)]

    def _signature(self, atom: clingo.Symbol) -> Signature:
        """An atom's predicate, kept per grounding by symbol value (two cffi calls)."""
        found = self._signatures_of.get(atom._rep)
        if found is None:
            found = self._signatures_of[atom._rep] = (atom.name, len(atom.arguments))
        return found

    def _heads(
        self, signature: Signature, by_signature: dict[Signature, list[int]]
    ) -> dict[int, list[int]]:
        """The dynamic instances of one head predicate by head atom (its clingo symbol
        value), on first need: only their heads are computed (a decision grounding has one
        ``action`` instance per candidate action, 16k at 100k triples); a proof parses the
        few true ones."""
        with self._lock:
            found = self._by_head.get(signature)
            if found is None:
                found = {}
                for k in by_signature.get(signature, ()):
                    head = head_value(self.program, self.dynamic[k][0])
                    if head is not None:
                        found.setdefault(head, []).append(k)
                self._by_head[signature] = found
            return found

    def _parsed(self, sym: clingo.Symbol) -> RuleInstance | None:
        if sym in self.parsed:
            return self.parsed[sym]
        inst = self.parsed[sym] = parse_instance(self.program, sym)
        return inst

    def _dynamic_signatures(self) -> dict[Signature, list[int]]:
        """Positions of the dynamic instances by their rule head's predicate, built once.

        Grouping by signature needs no parsing (the head's predicate is in the rule): a
        decision parses the instances of the predicates its proof walks through, once per
        grounding, instead of every instance of the grounding on its first request.
        """
        with self._lock:
            return self._signatures_unlocked()

    def _signatures_unlocked(self) -> dict[Signature, list[int]]:
        """``_dynamic_signatures`` for a caller holding the lock."""
        if self._signatures is None:
            self._signatures = _by_signature(
                self.program, [sym for sym, _lit in self.dynamic], self._dynamic_keys, self._parsed
            )
        return self._signatures


def _by_signature(
    program: Program,
    fired: Sequence[clingo.Symbol],
    keys: Sequence[tuple[int, int]],
    parse: Callable[[clingo.Symbol], RuleInstance | None],
) -> dict[Signature, list[int]]:
    """Positions in ``fired`` of the instances by their rule head's predicate (``keys``: the
    statement and element number of each).

    Grouping by signature needs no parsing (the head's predicate is in the rule, and a
    ``__fired`` atom names its rule), except for a head form without a plain signature.
    """
    of_element = _element_signatures(program)
    out: dict[Signature, list[int]] = {}
    for k, key in enumerate(keys):
        signature = of_element.get(key)
        if signature is None and key in of_element:
            inst = parse(fired[k])  # a head form without a plain signature
            if inst is not None:
                signature = (inst.head.name, len(inst.head.arguments))
        if signature is not None:
            out.setdefault(signature, []).append(k)
    return out


def _element_signatures(program: Program) -> dict[Key, Signature | None]:
    """The head predicate of each traced element (None: no head, or no plain signature)."""
    return {
        key: None if t.head is None else atom_signature(t.head.atom)
        for key, t in program.traced.items()
    }


def _static_signatures(
    program: Program, groups: Mapping[Key, Sequence[int]]
) -> dict[Signature, list[Sequence[int]]]:
    """The static groups (symbol values, one group per element, in key order) by their head
    predicate; a group whose head has no plain signature is split by parsing its atoms."""
    of_element = _element_signatures(program)
    out: dict[Signature, list[Sequence[int]]] = {}
    for key in sorted(groups):
        if key not in of_element:
            continue
        signature = of_element[key]
        if signature is not None:
            out.setdefault(signature, []).append(groups[key])
            continue
        split: dict[Signature, list[int]] = {}
        for rep in groups[key]:
            inst = parse_instance(program, clingo.Symbol(rep))  # type: ignore[no-untyped-call]
            if inst is not None:
                split.setdefault((inst.head.name, len(inst.head.arguments)), []).append(rep)
        for signature, reps in split.items():
            out.setdefault(signature, []).append(reps)
    return out


Key = tuple[int, int]
SortKey = tuple[object, ...]


def _fired_atoms(
    ctl: clingo.Control,
) -> tuple[dict[Key, array[int]], list[tuple[clingo.Symbol, int, Key]]]:
    """The grounding's ``__fired(I, E, Values)`` atoms: the facts as clingo symbol values
    grouped by (statement, element) key ``(I, E)``, the others as symbols in clingo's order
    with their program literals and keys.

    Read through clingo's C API (``clingo_c``): a grounding has 64k static instances at 100k
    triples, of which a decision's proofs read a few predicates'. The facts stay plain
    numbers in arrays (no object per atom for the garbage collector to walk) until a proof
    needs their predicate (``_ordered`` puts a group in order).
    """
    read = Symbols()
    static: dict[Key, array[int]] = {}
    dynamic: dict[Key, list[tuple[int, int]]] = {}
    last_key: Key | None = None
    last_group = array("Q")
    for symbol, fact, literal in atoms(ctl, FIRED, 3):
        first, second = read.first_two(symbol)
        key = (read.number(first), read.number(second))
        if fact:
            if key != last_key:  # the grounder adds one rule's atoms in runs
                found = static.get(key)
                if found is None:
                    found = static[key] = array("Q")
                last_key, last_group = key, found
            last_group.append(symbol)
        else:
            dynamic.setdefault(key, []).append((symbol, literal))
    ordered: list[tuple[clingo.Symbol, int, Key]] = []
    for key in sorted(dynamic):
        group = dynamic[key]
        literals = {rep: lit for rep, lit in group}
        ordered += [(sym, literals[sym._rep], key) for sym in _ordered([r for r, _l in group])]
    return static, ordered


def sort_fired(instances: Iterable[clingo.Symbol]) -> list[clingo.Symbol]:
    """``__fired`` instances in the trace's order: by (statement, element), then clingo's."""
    groups: dict[Key, list[int]] = {}
    for sym in instances:
        args = sym.arguments
        groups.setdefault((args[0].number, args[1].number), []).append(sym._rep)
    return [sym for key in sorted(groups) for sym in _ordered(groups[key])]


def _ordered(group: Sequence[int]) -> list[clingo.Symbol]:
    """The atoms of one (statement, element) group (clingo symbol values) as symbols in
    clingo's order, which within a group is the order of their ``Values`` argument.

    Sorting with clingo's comparison costs a cffi call per comparison (3M of them at 100k
    triples). A group the grounder produced in order (most atoms) is checked with one clingo
    comparison per neighbour pair and kept; any other is sorted by ``_ValueKeys``, Python
    keys of the rule's variable values in clingo's order, and checked the same way; a group
    whose keys cannot be read, or fail the check, is sorted by clingo.
    """
    less = _lib.clingo_symbol_is_less_than
    if all(less(a, b) for a, b in pairwise(group)):  # the grounder's order often is clingo's
        return [clingo.Symbol(rep) for rep in group]  # type: ignore[no-untyped-call]
    reader = _ValueKeys()
    keys = [reader.values_of(rep) for rep in group]
    return _checked(group, keys)


def sort_symbols(symbols: Iterable[clingo.Symbol]) -> list[clingo.Symbol]:
    """``sorted(symbols)`` (distinct symbols), by Python keys checked against clingo's order
    (see ``_ordered``): a grounding sorts its tens of thousands of request inputs."""
    reps = [s._rep for s in symbols]
    reader = _ValueKeys()
    return _checked(reps, [reader.key_of(rep) for rep in reps])


def _checked(reps: Sequence[int], keys: Sequence[SortKey | None]) -> list[clingo.Symbol]:
    """Distinct symbol values sorted by ``keys``, checked with clingo's comparison, and
    sorted by clingo when a key is missing or the check fails."""
    ordered = list(reps)
    if None not in keys:
        order = sorted(range(len(reps)), key=keys.__getitem__)  # type: ignore[arg-type]
        ordered = [reps[k] for k in order]
    less = _lib.clingo_symbol_is_less_than
    symbols = [clingo.Symbol(rep) for rep in ordered]  # type: ignore[no-untyped-call]
    if None in keys or not all(less(a, b) for a, b in pairwise(ordered)):
        symbols.sort()
    return symbols


class _ValueKeys:
    """Python sort keys for symbols, in clingo's order (None for a symbol of another type).

    clingo orders by type first (numbers, then positive and negative constants, strings,
    functions), numbers by value, constants and strings by their UTF-8 bytes, functions by
    sign (positive first), arity, name, then arguments left to right.
    """

    def __init__(self) -> None:
        self._args = _ffi.new("clingo_symbol_t**")
        self._size = _ffi.new("size_t*")
        self._number = _ffi.new("int*")
        self._text = _ffi.new("char**")
        self._flag = _ffi.new("bool*")

    def __call__(self, values: int) -> SortKey | None:
        """The key of a ``Values`` tuple: its arguments' keys."""
        return self._arguments(values)

    def key_of(self, symbol: int) -> SortKey | None:
        """The key of any symbol."""
        return self._key(symbol)

    def values_of(self, fired: int) -> SortKey | None:
        """The key of a ``__fired(I, E, Values)`` atom's ``Values``."""
        if not _lib.clingo_symbol_arguments(fired, self._args, self._size) or self._size[0] != 3:
            return None
        return self._arguments(self._args[0][2])

    def _arguments(self, symbol: int) -> SortKey | None:
        if not _lib.clingo_symbol_arguments(symbol, self._args, self._size):
            return None
        row, size = self._args[0], self._size[0]
        out: list[SortKey] = []
        for i in range(size):
            found = self._key(row[i])
            if found is None:
                return None
            out.append(found)
        return tuple(out)

    def _key(self, symbol: int) -> SortKey | None:
        kind = _lib.clingo_symbol_type(symbol)
        if kind == _lib.clingo_symbol_type_number:
            if not _lib.clingo_symbol_number(symbol, self._number):
                return None
            return (1, self._number[0])
        if kind == _lib.clingo_symbol_type_string:
            if not _lib.clingo_symbol_string(symbol, self._text):
                return None
            return (4, _ffi.string(self._text[0]))
        if kind != _lib.clingo_symbol_type_function:
            return None
        if not _lib.clingo_symbol_is_negative(symbol, self._flag):
            return None
        negative = int(self._flag[0])
        if not _lib.clingo_symbol_name(symbol, self._text):
            return None
        name = _ffi.string(self._text[0])
        args = self._arguments(symbol)
        if args is None:
            return None
        if not args:
            return (2 + negative, name)  # a constant
        return (5, negative, len(args), name, args)


def shown_values(model: clingo.Model) -> list[int]:
    """The clingo symbol values of ``model``'s shown atoms (``Model.symbols(shown=True)``
    without wrapping each in a Symbol). ``shown`` and ``fired`` take them read once: clingo
    checks every conditional output to list them (30 ms a model for a plan at 1M triples)."""
    show = _lib.clingo_show_type_shown
    size = _ffi.new("size_t*")
    if not _lib.clingo_model_symbols_size(model._rep, show, size):
        raise RuntimeError("clingo could not count the shown atoms of a model")
    values = _ffi.new("clingo_symbol_t[]", size[0])
    if not _lib.clingo_model_symbols(model._rep, show, values, size[0]):
        raise RuntimeError("clingo could not read the shown atoms of a model")
    return list(values)


class _Reader:
    """Truth of program literals in one model through one reused cffi out-parameter."""

    def __init__(self, model: clingo.Model) -> None:
        self._call = _lib.clingo_model_is_true
        self._rep = model._rep
        self._value = _ffi.new("bool*")

    def __call__(self, literal: int) -> bool:
        if not self._call(self._rep, literal, self._value):
            raise RuntimeError(f"clingo could not read literal {literal} of a model")
        return bool(self._value[0])
