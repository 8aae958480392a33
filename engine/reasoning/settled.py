"""Proofs every model of one grounding shares, built once per grounding and labeller.

An atom is *settled* when its whole proof is fixed by grounding: it is a KG fact or request
input, or no dynamic ``__fired`` instance has its predicate, it has static instances, and
every positive body atom of each of them is settled, with no cycle on the way. Its level and
its support (see ``proof._supports``) depend only on the instances below it, so its proof DAG
is the same in every model of the grounding: the findings a plan lists, the ownership and
provider facts a decision's policies read. ``build_proofs`` stops at settled atoms, justifies
them at their recorded level (so the choice of supports above them is unchanged) and copies
their subproofs from here instead of walking, levelling and hashing them on every request.
The graph part a request's settled roots make (a plan's thousands of findings: their node ids
and merged, id-sorted subproofs) is kept too, per set of such roots (``SettledRoots``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import clingo

from engine.reasoning.astutil import Signature


class _HasPositive(Protocol):
    @property
    def positive(self) -> tuple[clingo.Symbol, ...]: ...


@dataclass(frozen=True)
class SettledRoots:
    """The part of a proof graph one set of settled roots makes, ready to merge.

    ``values`` are the roots' clingo symbol values; ``root_texts`` / ``root_ids`` their texts
    and node ids in text order; ``node_ids`` / ``nodes`` their subproofs' nodes in id order
    (the order a ``ProofGraph`` lists them in). Read only once made: requests share it.
    """

    values: frozenset[int]
    root_texts: list[str]
    root_ids: list[str]
    node_ids: list[str]
    nodes: list[Any]
    rest: tuple[clingo.Symbol, ...] = ()  # the roots asked for that have no settled proof

    @cached_property
    def root_map(self) -> dict[str, str]:
        """The roots as a map (text → node id), made once."""
        return dict(zip(self.root_texts, self.root_ids, strict=True))

    @cached_property
    def node_map(self) -> dict[str, Any]:
        """The nodes as a map (id → node), made once."""
        return dict(zip(self.node_ids, self.nodes, strict=True))


# How many sets of settled roots one labeller keeps: the roots a plan or decision passes
# differ by their dynamic atoms only, so a handful of request kinds share a few sets.
_KEPT_ROOTS = 4


@dataclass
class SettledProofs:
    """Settled atoms' levels and node ids, and their subproof nodes (for one labeller)."""

    levels: dict[clingo.Symbol, int] = field(default_factory=dict)
    ids: dict[clingo.Symbol, str] = field(default_factory=dict)
    nodes: dict[str, Any] = field(default_factory=dict)

    below: dict[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    # by the settled roots' symbol values, in the (sorted) order a request passes them
    roots: dict[tuple[int, ...], SettledRoots] = field(default_factory=dict)
    # by the roots object itself (``build_proofs``'s ``fixed_roots``), compared by identity
    fixed: list[tuple[object, SettledRoots]] = field(default_factory=list)

    def kept_fixed(self, roots: object) -> SettledRoots | None:
        """The graph part kept for this very ``fixed_roots`` object."""
        return next((found for kept, found in self.fixed if kept is roots), None)

    def keep_fixed(self, roots: object, found: SettledRoots) -> None:
        """Remember the graph part of one ``fixed_roots`` object (it is kept alive here, so
        the identity test cannot meet another object at its address)."""
        self.fixed = [*self.fixed[-(_KEPT_ROOTS - 1) :], (roots, found)]

    def kept_roots(self, key: tuple[int, ...]) -> SettledRoots | None:
        """The graph part kept for this set of settled roots (then the last one dropped)."""
        found = self.roots.pop(key, None)
        if found is not None:
            self.roots[key] = found
        return found

    def keep_roots(self, key: tuple[int, ...], found: SettledRoots) -> None:
        """Remember the graph part of one set of settled roots, dropping the least recently
        used (each holds a reference per node of a whole-KG plan's findings)."""
        self.roots[key] = found
        while len(self.roots) > _KEPT_ROOTS:
            del self.roots[next(iter(self.roots))]

    def subproof(self, nid: str) -> tuple[tuple[str, Any], ...]:
        """The nodes below (and including) ``nid``, collected once per node."""
        found = self.below.get(nid)
        if found is not None:
            return found
        out: dict[str, Any] = {}
        stack = [nid]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            node = out[current] = self.nodes[current]
            if node.kind == "rule":
                stack.extend(node.children)
        found = self.below[nid] = tuple(out.items())
        return found


class Settled:
    """Which atoms of one grounding are settled, and their proofs per (resolver, labeller).

    ``dynamic`` holds the predicates some non-fact ``__fired`` instance derives; the rest of
    the program's derived atoms are decided by the grounder alone.
    """

    def __init__(self, dynamic: Collection[Signature]) -> None:
        self._dynamic = frozenset(dynamic)
        self._closed: dict[int, bool] = {}
        self._proofs: list[tuple[object, object, SettledProofs]] = []
        self.texts: dict[int, str] = {}  # atom texts by clingo symbol value
        self.lock = threading.Lock()

    def proofs(self, origin: object, label_of: object) -> SettledProofs:
        """The settled proofs built with this resolver and labeller (the plane keeps one of
        each per loaded fact set, so the same objects come back request after request)."""
        for o, lab, found in self._proofs:
            if o is origin and lab is label_of:
                return found
        found = SettledProofs()
        self._proofs = [*self._proofs[-3:], (origin, label_of, found)]
        return found

    def closed(
        self,
        atom: clingo.Symbol,
        instances_of: Callable[[clingo.Symbol], Sequence[_HasPositive]],
        given: Callable[[clingo.Symbol], bool],
    ) -> bool:
        """Whether ``atom`` is settled (``instances_of``: an atom's static instances).

        Depth-first without recursion; an atom met again while its own answer is pending (a
        cycle through static instances) counts as unsettled, which is never wrong: that part
        of the proof is then built per request, as before.
        """
        closed = self._closed  # by clingo symbol value: no cffi hash per atom
        known = closed.get(atom._rep)
        if known is not None:
            return known
        pending: set[int] = set()
        stack: list[tuple[clingo.Symbol, bool]] = [(atom, False)]
        while stack:
            current, expanded = stack.pop()
            value = current._rep
            if value in closed:
                continue
            if given(current):
                closed[value] = True
                continue
            instances = instances_of(current)
            children = [c for inst in instances for c in inst.positive]
            if not expanded:
                signature = (current.name, len(current.arguments))
                if value in pending or signature in self._dynamic or not instances:
                    closed[value] = False
                    pending.discard(value)
                    continue
                pending.add(value)
                stack.append((current, True))
                stack.extend((c, False) for c in children if c._rep not in closed)
                continue
            pending.discard(value)
            closed[value] = all(closed.get(c._rep, False) for c in children)
        return closed[atom._rep]
