"""Proof DAGs from traced rule instances: well-founded, acyclic, shared, rendered three ways.

The solver records each ground instance whose body held as a ``__fired`` atom (see
``transform``). ``build_proofs`` turns those into supports: facts and request inputs are level
0; an instance is justified at level k when all its positive body atoms are justified below k;
each atom's support is its lowest-level instance (ties: the first in clingo's symbol order).
Supports therefore never loop, also for recursive rules. Only atoms reachable from the roots
(actions, denials, escalations, findings) become nodes. A node's id is a hash of its content,
so identical subproofs are one node.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, is_dataclass
from itertools import pairwise
from typing import Annotated, Any, Literal

import clingo
from clingo import ast
from clingo._internal import _ffi, _lib  # type: ignore[attr-defined]
from pydantic import BaseModel, ConfigDict, Field

from engine.reasoning.astutil import (
    Evaluator,
    NotGround,
    Rendering,
    Signature,
    compile_term,
    render,
    variables,
)
from engine.reasoning.settled import Settled, SettledProofs, SettledRoots
from engine.reasoning.transform import Program, TracedElement

Resolver = Callable[[clingo.Symbol], object | None]
LabelOf = Callable[[clingo.Symbol], str | None]
FactSource = Literal["kg", "request", "unsupported"]
_PLACEHOLDER = re.compile(r"\{([A-Z_][A-Za-z0-9_']*)\}")


class FactNode(BaseModel):
    """A leaf: a KG fact (with its origin: triple, graph, batch, record) or a request input."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["fact"] = "fact"
    id: str
    atom: str
    source: FactSource
    origin: Any = None


class RuleNode(BaseModel):
    """A ground rule instance: which rule, where, its label, and the conditions that held."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["rule"] = "rule"
    id: str
    rule_id: str
    file: str
    line: int
    label: str
    head: str
    children: tuple[str, ...]
    negative: tuple[str, ...] = ()
    comparisons: tuple[str, ...] = ()
    aggregates: tuple[str, ...] = ()


ProofNode = Annotated[FactNode | RuleNode, Field(discriminator="kind")]


class ProofGraph(BaseModel):
    """Roots (atom text → node id) and the nodes of a proof DAG.

    Both maps are in key order, except a plan's: the part its findings fixed by grounding make
    (the same for every request on the grounding) in key order, then the request's own roots
    and nodes in key order. ``to_json`` sorts every key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    roots: dict[str, str]
    nodes: dict[str, ProofNode]

    def to_json(self) -> str:
        """Stable JSON: sorted keys, two-space indent."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2)

    def subgraph(self, atom: str) -> ProofGraph:
        """The proof of one root atom only."""
        root = self.roots[atom]
        keep: dict[str, ProofNode] = {}
        stack = [root]
        while stack:
            nid = stack.pop()
            if nid in keep:
                continue
            node = self.nodes[nid]
            keep[nid] = node
            if isinstance(node, RuleNode):
                stack.extend(node.children)
        return ProofGraph(roots={atom: root}, nodes=dict(sorted(keep.items())))

    def to_text(self) -> str:
        """An indented tree; a node shared by several parents is printed once, then cited."""
        lines: list[str] = []
        seen: set[str] = set()
        for atom, root in sorted(self.roots.items()):
            lines.append(atom)
            stack: list[tuple[str, str, bool]] = [(root, "", True)]
            while stack:
                nid, prefix, last = stack.pop()
                node = self.nodes[nid]
                branch = "└─ " if last else "├─ "
                ref = nid[:8]
                if nid in seen:
                    lines.append(f"{prefix}{branch}{_title(node)} (see #{ref})")
                    continue
                seen.add(nid)
                lines.append(f"{prefix}{branch}{_title(node)} #{ref}")
                if not isinstance(node, RuleNode):
                    continue
                inner = prefix + ("   " if last else "│  ")
                conds = [f"✓ {c}" for c in (*node.negative, *node.comparisons, *node.aggregates)]
                items: list[tuple[str, str | None]] = [(c, None) for c in conds]
                items += [("", child) for child in node.children]
                pushed: list[tuple[str, str, bool]] = []
                for pos, (text, child) in enumerate(items):
                    is_last = pos == len(items) - 1
                    if child is None:
                        lines.append(f"{inner}{'└─ ' if is_last else '├─ '}{text}")
                    else:
                        pushed.append((child, inner, is_last))
                stack.extend(reversed(pushed))
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        """Graphviz DOT: rule instances as boxes, facts as ellipses, edges to what they use."""
        out = ["digraph proof {", "  rankdir=TB;", '  node [fontname="Helvetica"];']
        for nid, node in sorted(self.nodes.items()):
            shape = "box" if isinstance(node, RuleNode) else "ellipse"
            out.append(f'  "{nid}" [shape={shape}, label={_dot_string(_title(node))}];')
        for nid, node in sorted(self.nodes.items()):
            if isinstance(node, RuleNode):
                out += [f'  "{nid}" -> "{child}";' for child in node.children]
        for atom, nid in sorted(self.roots.items()):
            out.append(f'  "root:{atom}" [shape=plaintext, label={_dot_string(atom)}];')
            out.append(f'  "root:{atom}" -> "{nid}";')
        out.append("}")
        return "\n".join(out) + "\n"


def _title(node: FactNode | RuleNode) -> str:
    if isinstance(node, RuleNode):
        return f"{node.head} ← {node.label} [{node.rule_id} {node.file}:{node.line}]"
    origin = "" if node.origin is None else f" from {_origin_text(node.origin)}"
    return f"{node.atom} [{node.source} fact{origin}]"


def _origin_text(origin: object) -> str:
    """Source records read as ``file#row=N``; other origins as compact JSON.

    The binding's origins are lists of ``{triple, compact, graph, batch, record}`` dicts; a
    reader of a proof tree wants the record first, the triple and batch second.
    """
    items: list[object] = origin if isinstance(origin, list) else [origin]
    parts: list[str] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("record"), dict):
            return json.dumps(origin, sort_keys=True)
        record = item["record"]
        ident = record.get("key") or f"row={record.get('row')}"
        where = f"{record.get('container')}#{ident}"
        triple = " ".join(str(t) for t in item.get("compact") or ())
        batch = str(item.get("batch") or "").removeprefix("urn:warrant:batch:")
        parts.append(f"{where} ({triple}; batch {batch})" if triple else where)
    return "; ".join(parts)


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class _Instance:
    traced: TracedElement
    binding: dict[str, clingo.Symbol]
    head: clingo.Symbol
    positive: tuple[clingo.Symbol, ...]
    # The node content that does not depend on the children's ids, kept with the instance
    # (which a grounding's memo keeps across requests), with the ``label_of`` it was made with.
    rendered: list[tuple[LabelOf | None, dict[str, Any]]] = field(
        default_factory=list, compare=False, repr=False
    )


ParsedInstances = dict[clingo.Symbol, "_Instance | None"]
FactNodes = dict[tuple[clingo.Symbol, FactSource], FactNode]


class FactMemo:
    """Fact nodes of one grounding per origin resolver: an atom's origin, its JSON form and its
    hash do not change while the resolver (one per loaded fact set) is the same object."""

    def __init__(self) -> None:
        self._by_resolver: weakref.WeakKeyDictionary[Resolver, FactNodes] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def nodes(self, resolver: Resolver) -> FactNodes:
        """The fact nodes already built with ``resolver``."""
        with self._lock:
            found = self._by_resolver.get(resolver)
            if found is None:
                found = self._by_resolver[resolver] = {}
            return found


class InstanceIndex:
    """Parsed fired instances by head atom (one model's, read per request).

    ``memo`` (one per grounding) keeps each fired atom's parsed instance across requests: a
    fired atom always means the same instance, and parsing it reads clingo symbols through
    cffi (most of a warm decision's proof time before it was kept). Heads are keyed by clingo
    symbol value: no cffi hash per lookup.
    """

    def __init__(
        self,
        program: Program,
        fired: Iterable[clingo.Symbol],
        *,
        memo: ParsedInstances | None = None,
    ) -> None:
        self._by_head: dict[int, list[_Instance]] = {}
        for f in fired:
            if memo is None:
                inst = _instance(program, f)
            elif f in memo:
                inst = memo[f]
            else:
                inst = memo[f] = _instance(program, f)
            if inst is not None:
                self._by_head.setdefault(inst.head._rep, []).append(inst)

    def of(self, atom: clingo.Symbol) -> Sequence[_Instance]:
        """The instances whose head is ``atom``, in the order they were given."""
        return self._by_head.get(atom._rep, ())


class StaticIndex(InstanceIndex):
    """The instances a grounding fixed (the same in every model), parsed per head atom on
    first need.

    A grounding has tens of thousands of them (64k in a decision's grounding at 100k
    triples, 640k at 1M; 1.6M with a rule joining every pair of providers), and parsing one
    reads clingo symbols through cffi into objects a proof walks. A proof reaches a few of
    them: a predicate's instances are first indexed by their heads' clingo symbol values
    alone (``load`` gives the ``__fired`` values of one head predicate's instances), and an
    atom's instances are parsed when a proof reaches it. Parsing whole predicates instead
    kept 123 MiB more at 1M for the 17 proof nodes of a one-vendor plan's actions.

    An atom's instances come in the trace's order, which is clingo's order of their
    ``__fired(Statement, Element, Values)`` atoms: the order a whole index lists them in.
    """

    def __init__(self, program: Program, load: Callable[[Signature], Iterable[int]]) -> None:
        super().__init__(program, ())
        self._program = program
        self._load_signature = load
        self._loaded: set[Signature] = set()
        self._heads: dict[int, list[int]] = {}  # head value → its instances' fired values
        self._known: dict[int, Sequence[_Instance]] = {}  # by atom value, once looked up
        self._lock = threading.Lock()

    def of(self, atom: clingo.Symbol) -> Sequence[_Instance]:
        """The instances whose head is ``atom``, in the grounding's order."""
        rep = atom._rep
        found = self._known.get(rep)
        if found is not None:
            return found
        signature = (atom.name, len(atom.arguments))
        with self._lock:
            found = self._known.get(rep)  # another thread may have parsed it meanwhile
            if found is not None:
                return found
            if signature not in self._loaded:
                self._load(signature)
            fired = sorted(
                clingo.Symbol(r)  # type: ignore[no-untyped-call]
                for r in self._heads.pop(rep, ())
            )
            parsed = [_instance(self._program, f) for f in fired]
            found = self._known[rep] = [inst for inst in parsed if inst is not None]
        return found

    def _load(self, signature: Signature) -> None:
        """Index one head predicate's instances by head (the caller holds the lock)."""
        heads = self._heads
        for fired in self._load_signature(signature):
            head = _head_of(self._program, fired)
            if head is not None:
                heads.setdefault(head, []).append(fired)
        self._loaded.add(signature)


def build_proofs(
    program: Program,
    fired: Sequence[clingo.Symbol],
    *,
    facts: Collection[clingo.Symbol],
    inputs: Iterable[clingo.Symbol],
    roots: Iterable[clingo.Symbol],
    fixed_roots: Sequence[clingo.Symbol] = (),
    origin: Resolver | None = None,
    label_of: LabelOf | None = None,
    static: InstanceIndex | None = None,
    memo: ParsedInstances | None = None,
    fact_memo: FactMemo | None = None,
    settled: Settled | None = None,
    fact_values: AbstractSet[int] | None = None,
) -> ProofGraph:
    """The proof DAG of ``roots`` from the fired instances of one answer set.

    ``fired`` are this model's instances; ``static`` (optional) holds instances shared by every
    model of the grounding. Only instances reachable backwards from the roots are considered.
    ``memo`` (one per grounding) caches parsed fired atoms across requests, ``fact_memo`` the
    fact nodes built with the same ``origin`` resolver, ``settled`` (with ``static``) the
    subproofs every model of the grounding shares; ``fact_values`` (optional) are the facts'
    clingo symbol values, for membership tests without a cffi hash per atom. ``fixed_roots``
    are more roots, passed as the same sequence object request after request (a plan's
    findings fixed by grounding): with ``settled``, the graph part their settled proofs make
    is built once per such object and merged into each request's graph.
    """
    inputs = frozenset(inputs)
    indexes = [i for i in (static, InstanceIndex(program, fired, memo=memo)) if i is not None]
    fact_nodes: FactNodes = (
        fact_memo.nodes(origin) if fact_memo is not None and origin is not None else {}
    )
    draw = _Drawing(
        inputs, facts, origin, label_of, fact_nodes, {} if settled is None else settled.texts
    )

    if fact_values is None:

        def given(atom: clingo.Symbol) -> bool:
            return atom in facts or atom in inputs

    else:
        # not one set of both: copying every fact's value took 50 ms a request at 1M triples
        known, asked = fact_values, frozenset(a._rep for a in inputs)

        def given(atom: clingo.Symbol) -> bool:
            return atom._rep in known or atom._rep in asked

    if settled is None or static is None:
        roots = _sorted_unique([*roots, *fixed_roots])
        usable = _relevant(roots, indexes, given)
        support, _levels = _supports(usable, given, {})
        return draw.graph(roots, _needed(roots, support, usable), support, usable, None)
    # Supports and node ids do not depend on the roots' order (an atom's instances are met
    # together, in their index's order): only the few dynamic roots are put in order here.
    distinct = list({r._rep: r for r in roots}.values())
    with settled.lock:
        shared = settled.proofs(origin, label_of)
        if fixed_roots:
            fixed = shared.kept_fixed(fixed_roots)
            if fixed is None:
                unique = list({r._rep: r for r in fixed_roots}.values())
                fixed = _settled_part(unique, settled, static, given, draw, shared)
                shared.keep_fixed(fixed_roots, fixed)
            distinct += fixed.rest  # drawn with the request's own roots, as before
        else:
            # kept per set of settled roots, in the order this request passes them: another
            # order (a plan passes them sorted) only builds the part again
            closed = [r for r in distinct if not given(r) and settled.closed(r, static.of, given)]
            key = tuple(r._rep for r in closed)
            found = shared.kept_roots(key)
            if found is None:
                found = _settled_part(closed, settled, static, given, draw, shared)
                shared.keep_roots(key, found)
            fixed = found
        dynamic = _sorted_unique(r for r in distinct if r._rep not in fixed.values)
        boundary: list[clingo.Symbol] = []

        def stop(atom: clingo.Symbol) -> bool:
            if given(atom):
                return True
            if settled.closed(atom, static.of, given):
                boundary.append(atom)
                return True
            return False

        usable = _relevant(dynamic, indexes, stop)
        _settle([a for a in boundary if a not in shared.ids], static, given, draw, shared)
        support, _levels = _supports(usable, given, shared.levels)
        ids: dict[clingo.Symbol, str] = {}
        nodes: dict[str, Any] = {}
        draw.nodes(_needed(dynamic, support, usable), support, usable, shared, ids, nodes)
        root_ids = {draw.text(r): ids[r] for r in dynamic if r in ids}
        if fixed_roots:
            return ProofGraph.model_construct(
                roots=_appended(fixed.root_map, root_ids), nodes=_appended(fixed.node_map, nodes)
            )
        return ProofGraph.model_construct(
            roots=_merged(fixed.root_texts, fixed.root_ids, root_ids),
            nodes=_merged(fixed.node_ids, fixed.nodes, nodes),
        )


def _settled_part(
    roots: Sequence[clingo.Symbol],
    settled: Settled,
    static: InstanceIndex,
    given: Callable[[clingo.Symbol], bool],
    draw: _Drawing,
    shared: SettledProofs,
) -> SettledRoots:
    """The part of a proof graph the settled ones among distinct ``roots`` make (roots that
    are no fact or input and whose proof is shared); the others are its ``rest`` (the caller
    holds the lock).

    A plan proves every finding of the KG, all settled: merging their thousands of subproofs
    and sorting the nodes again on every request was most of a warm plan's proof time.
    """
    candidates = [r for r in roots if not given(r) and settled.closed(r, static.of, given)]
    _settle([a for a in candidates if a not in shared.ids], static, given, draw, shared)
    # a candidate without a settled proof (none of its instances justified) stays with the
    # rest of the roots, drawn as before
    proved = [(r, shared.ids[r]) for r in candidates if r in shared.ids]
    nodes: dict[str, Any] = {}
    for _atom, nid in proved:
        if nid not in nodes:
            nodes.update(shared.subproof(nid))
    texts = sorted((draw.text(r), nid) for r, nid in proved)
    ordered = sorted(nodes.items())
    values = frozenset(r._rep for r, _nid in proved)
    return SettledRoots(
        values=values,
        root_texts=[t for t, _nid in texts],
        root_ids=[nid for _t, nid in texts],
        node_ids=[nid for nid, _node in ordered],
        nodes=[node for _nid, node in ordered],
        rest=tuple(r for r in roots if r._rep not in values),
    )


def _appended(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` (one C-level copy) with the keys of ``extra`` it lacks appended in
    key order; a key already in ``base`` keeps its value (content-hashed ids: the same node).

    Merging a request's few nodes into a whole-KG plan's fixed part in key order rebuilt a
    190k-entry dict on every request at 1M triples (72 ms of a 270 ms one-vendor plan)."""
    out = dict(base)
    out.update(sorted((k, v) for k, v in extra.items() if k not in base))
    return out


def _merged(keys: Sequence[str], values: Sequence[Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """The sorted ``keys``/``values`` with ``extra`` (few) merged in, as a dict in key order;
    a key already among ``keys`` keeps its value (content-hashed ids: the same node)."""
    if not extra:
        return dict(zip(keys, values, strict=True))
    out_keys: list[str] = []
    out_values: list[Any] = []
    start = 0
    for key, value in sorted(extra.items()):
        pos = bisect_left(keys, key, start)
        out_keys += keys[start:pos]
        out_values += values[start:pos]
        start = pos
        if pos < len(keys) and keys[pos] == key:
            continue
        out_keys.append(key)
        out_values.append(value)
    out_keys += keys[start:]
    out_values += values[start:]
    return dict(zip(out_keys, out_values, strict=True))


def _settle(
    atoms: Sequence[clingo.Symbol],
    static: InstanceIndex,
    given: Callable[[clingo.Symbol], bool],
    draw: _Drawing,
    shared: SettledProofs,
) -> None:
    """Build the proofs of settled ``atoms`` from the static instances alone (the same
    walk, levels and supports as a whole proof would give them) and keep them in ``shared``."""
    if not atoms:
        return
    roots = _sorted_unique(atoms)
    usable = _relevant(roots, [static], given)
    support, levels = _supports(usable, given, {})
    ids: dict[clingo.Symbol, str] = {}
    order = _needed(roots, support, usable)
    draw.nodes(order, support, usable, None, ids, shared.nodes)
    for atom in order:
        if atom in support:
            shared.ids[atom] = ids[atom]
            shared.levels[atom] = levels[atom]


class _Drawing:
    """Turns supports into proof nodes (content-hashed, so shared subproofs are one node)."""

    def __init__(
        self,
        inputs: frozenset[clingo.Symbol],
        facts: Collection[clingo.Symbol],
        origin: Resolver | None,
        label_of: LabelOf | None,
        fact_nodes: FactNodes,
        texts: dict[int, str],
    ) -> None:
        self.inputs, self.facts, self.origin, self.label_of = inputs, facts, origin, label_of
        self.fact_nodes, self.texts = fact_nodes, texts

    def text(self, atom: clingo.Symbol) -> str:
        """``str(atom)`` (a cffi call), kept per grounding by symbol value."""
        found = self.texts.get(atom._rep)
        if found is None:
            found = self.texts[atom._rep] = str(atom)
        return found

    def graph(
        self,
        roots: Sequence[clingo.Symbol],
        order: Sequence[clingo.Symbol],
        support: Mapping[clingo.Symbol, int],
        usable: Sequence[_Instance],
        shared: SettledProofs | None,
    ) -> ProofGraph:
        """The proof DAG of ``roots``: ``order`` lists the needed atoms, children first."""
        ids: dict[clingo.Symbol, str] = {}
        nodes: dict[str, FactNode | RuleNode] = {}
        self.nodes(order, support, usable, shared, ids, nodes)
        root_ids = {self.text(r): ids[r] for r in roots if r in ids}
        # Every node is a validated model already and the roots map text to text: validating
        # the graph again walked each of its thousands of nodes (a plan proves every finding).
        return ProofGraph.model_construct(
            roots=dict(sorted(root_ids.items())), nodes=dict(sorted(nodes.items()))
        )

    def nodes(
        self,
        order: Sequence[clingo.Symbol],
        support: Mapping[clingo.Symbol, int],
        usable: Sequence[_Instance],
        shared: SettledProofs | None,
        ids: dict[clingo.Symbol, str],
        nodes: dict[str, Any],
    ) -> None:
        """Add the node of each atom of ``order`` (children first) to ``nodes`` and ``ids``."""
        for atom in order:
            k = support.get(atom)
            settled_id = None if shared is None or k is not None else shared.ids.get(atom)
            if settled_id is not None:
                nid = settled_id
                if nid not in nodes:
                    nodes.update(shared.subproof(nid))  # type: ignore[union-attr]
            elif k is None:
                known = self._fact(atom)
                nid = known.id
                nodes[nid] = known
            else:
                content = _rule_content(usable[k], ids, self.label_of)
                nid = _hash("rule", content)
                nodes[nid] = RuleNode(id=nid, **content)
            ids[atom] = nid

    def _fact(self, atom: clingo.Symbol) -> FactNode:
        source: FactSource = (
            "request" if atom in self.inputs else "kg" if atom in self.facts else "unsupported"
        )
        known = self.fact_nodes.get((atom, source))
        if known is None:
            origin = self.origin
            value = _jsonable(origin(atom)) if origin is not None and source == "kg" else None
            content: dict[str, Any] = {"atom": str(atom), "source": source, "origin": value}
            nid = _hash("fact", content)
            known = self.fact_nodes[(atom, source)] = FactNode(id=nid, **content)
        return known


def _sorted_unique(atoms: Iterable[clingo.Symbol]) -> list[clingo.Symbol]:
    """``sorted(set(atoms))`` in clingo's order; each comparison and hash is a cffi call, and
    the roots a plan passes (its shown atoms) are already sorted and distinct: check that with
    one comparison per neighbour pair, keyed by symbol value, and sort only when not."""
    distinct = list({a._rep: a for a in atoms}.values())
    if all(a < b for a, b in pairwise(distinct)):
        return distinct
    return sorted(distinct)


def _relevant(
    roots: Sequence[clingo.Symbol],
    indexes: Sequence[InstanceIndex],
    given: Callable[[clingo.Symbol], bool],
) -> list[_Instance]:
    """Instances whose heads the roots depend on, in a deterministic (breadth-first) order
    (``given`` atoms are not expanded)."""
    out: list[_Instance] = []
    seen = {r._rep for r in roots}  # clingo symbol values: no cffi hash per atom
    queue = deque(roots)
    while queue:
        atom = queue.popleft()
        if given(atom):
            continue
        for index in indexes:
            for inst in index.of(atom):
                out.append(inst)
                for child in inst.positive:
                    if child._rep not in seen:
                        seen.add(child._rep)
                        queue.append(child)
    return out


@dataclass(frozen=True)
class _Compiled:
    """A traced element's head, positive body and rendered literals, compiled once."""

    head: Evaluator
    positive: tuple[Evaluator, ...]
    negative: tuple[Rendering, ...]
    comparisons: tuple[Rendering, ...]
    aggregates: tuple[Rendering, ...]
    body: tuple[Rendering, ...]
    # the head and positive body on clingo symbol values (None: a term only ``compile_term``
    # evaluates, such as arithmetic or an external function)
    raw: tuple[_Raw, tuple[_Raw, ...]] | None = None
    # whether the traced values bind every variable of the positive body (so that evaluating
    # those atoms cannot raise NotGround)
    bound: bool = False


# Keyed by the traced element's identity; the element is kept so its id is never reused.
_COMPILED: dict[int, tuple[TracedElement, _Compiled]] = {}


def _compiled(traced: TracedElement) -> _Compiled:
    hit = _COMPILED.get(id(traced))
    if hit is not None and hit[0] is traced:
        return hit[1]
    assert traced.head is not None
    positive: list[Evaluator] = []
    negative: list[Rendering] = []
    comparisons: list[Rendering] = []
    aggregates: list[Rendering] = []
    for lit in traced.body:
        if lit.ast_type == ast.ASTType.Literal:
            kind = lit.atom.ast_type
            if kind == ast.ASTType.SymbolicAtom:
                if lit.sign == ast.Sign.NoSign:
                    positive.append(compile_term(lit.atom))
                else:
                    negative.append(Rendering(lit))
            elif kind == ast.ASTType.Comparison:
                comparisons.append(Rendering(lit))
            elif kind != ast.ASTType.BooleanConstant:
                aggregates.append(Rendering(lit))
        else:
            aggregates.append(Rendering(lit))
    compiled = _Compiled(
        head=compile_term(traced.head.atom),
        positive=tuple(positive),
        negative=tuple(negative),
        comparisons=tuple(comparisons),
        aggregates=tuple(aggregates),
        body=tuple(Rendering(lit) for lit in traced.body),
        raw=_raw_terms(traced.head.atom, [lit.atom for lit in traced.body if _is_positive(lit)]),
        bound={v.name for lit in traced.body if _is_positive(lit) for v in variables(lit.atom)}
        <= set(traced.variables),
    )
    _COMPILED[id(traced)] = (traced, compiled)
    return compiled


RuleInstance = _Instance  # the parsed form of a ``__fired`` atom, for the trace reader


def parse_instance(program: Program, fired: clingo.Symbol) -> RuleInstance | None:
    """The rule instance a ``__fired`` atom records (None for an untraced or non-ground one)."""
    return _instance(program, fired)


def head_value(program: Program, fired: clingo.Symbol) -> int | None:
    """The clingo symbol value of the head of the instance ``fired`` records (None where
    ``parse_instance`` gives None), without building the instance where the rule's head
    allows: finding a head's instances among thousands needs only their heads."""
    return _head_of(program, fired._rep)


def _head_of(program: Program, fired: int) -> int | None:
    """``head_value`` of a ``__fired`` atom given as its clingo symbol value."""
    found = _fired_values(program, fired)
    if found is None:
        return None
    traced, reps = found
    compiled = _compiled(traced)
    if compiled.raw is None:
        inst = _instance(program, clingo.Symbol(fired))  # type: ignore[no-untyped-call]
        return None if inst is None else int(inst.head._rep)
    binding = dict(zip(traced.variables, reps, strict=True))
    try:
        if not compiled.bound:  # a positive body atom that is not ground: no instance
            for p in compiled.raw[1]:
                p(binding)
        return compiled.raw[0](binding)
    except NotGround:
        return None


def _fired_values(program: Program, fired: int) -> tuple[TracedElement, list[int]] | None:
    """The traced rule element a ``__fired(Rule, Element, Values)`` atom (its clingo symbol
    value) names and the symbol values of its variables, read through clingo's C API (None:
    not a traced element with a head, or not that shape)."""
    args, size, number = _ffi.new("clingo_symbol_t**"), _ffi.new("size_t*"), _ffi.new("int*")
    if not _lib.clingo_symbol_arguments(fired, args, size) or size[0] != 3:
        return None
    row = args[0]
    values = row[2]
    if not _lib.clingo_symbol_number(row[0], number):
        return None
    idx = number[0]
    if not _lib.clingo_symbol_number(row[1], number):
        return None
    traced = program.traced.get((idx, number[0]))
    if traced is None or traced.head is None:
        return None
    if not _lib.clingo_symbol_arguments(values, args, size):
        return None
    row = args[0]
    return traced, [row[i] for i in range(size[0])]


def _instance(program: Program, fired: clingo.Symbol) -> _Instance | None:
    """The instance ``fired`` records, read through clingo's C API where the rule's terms
    allow (a first whole-KG plan parses tens of thousands: each ``Symbol.arguments`` and
    ``clingo.Function`` through the Python wrappers costs several cffi allocations)."""
    found = _fired_values(program, fired._rep)
    if found is None:
        return None
    traced, reps = found
    binding = {
        name: clingo.Symbol(rep)  # type: ignore[no-untyped-call]
        for name, rep in zip(traced.variables, reps, strict=True)
    }
    compiled = _compiled(traced)
    try:
        if compiled.raw is None:
            head = compiled.head(binding)
            positive = list(dict.fromkeys(p(binding) for p in compiled.positive))
        else:
            raw_binding = dict(zip(traced.variables, reps, strict=True))
            raw_head, raw_positive = compiled.raw
            head = clingo.Symbol(raw_head(raw_binding))  # type: ignore[no-untyped-call]
            positive = [
                clingo.Symbol(rep)  # type: ignore[no-untyped-call]
                for rep in dict.fromkeys(p(raw_binding) for p in raw_positive)
            ]
    except NotGround:
        return None
    return _Instance(traced, binding, head, tuple(positive))


_Raw = Callable[[Mapping[str, int]], int]


def _is_positive(lit: ast.AST) -> bool:
    """Whether a body literal is a positive symbolic atom (a proof's child)."""
    return bool(
        lit.ast_type == ast.ASTType.Literal
        and lit.atom.ast_type == ast.ASTType.SymbolicAtom
        and lit.sign == ast.Sign.NoSign
    )


def _raw_terms(head: ast.AST, positive: Sequence[ast.AST]) -> tuple[_Raw, tuple[_Raw, ...]] | None:
    """``compile_term`` of the head and the positive body atoms on clingo symbol values, or
    None when one of them has a term it alone evaluates."""
    raw_head = _raw_term(head)
    raw_positive = [_raw_term(p) for p in positive]
    if raw_head is None or any(p is None for p in raw_positive):
        return None
    return raw_head, tuple(p for p in raw_positive if p is not None)


def _raw_term(term: ast.AST) -> _Raw | None:
    """A term's value from the values of its variables, for symbolic terms, variables and
    (non-external) functions of them: the same values and NotGround cases as
    ``compile_term``; None for any other term."""
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicAtom:
        return _raw_term(term.symbol)
    if kind == ast.ASTType.SymbolicTerm:
        value: int = term.symbol._rep
        return lambda _b: value
    if kind == ast.ASTType.Variable:
        name: str = term.name

        def variable(b: Mapping[str, int]) -> int:
            try:
                return b[name]
            except KeyError:
                raise NotGround(name) from None

        return variable
    if kind != ast.ASTType.Function or term.external:
        return None
    args = [_raw_term(a) for a in term.arguments]
    if any(a is None for a in args):
        return None
    parts = [a for a in args if a is not None]
    fname: bytes = term.name.encode()
    arity = len(parts)
    create = _lib.clingo_symbol_create_function

    def function(b: Mapping[str, int]) -> int:
        out = _ffi.new("clingo_symbol_t*")
        if not create(
            fname, _ffi.new("clingo_symbol_t[]", [a(b) for a in parts]), arity, True, out
        ):
            raise RuntimeError(f"clingo could not create a `{fname.decode()}` term")
        return int(out[0])

    return function


def _supports(
    instances: Sequence[_Instance],
    given: Callable[[clingo.Symbol], bool],
    preset: Mapping[clingo.Symbol, int],
) -> tuple[dict[clingo.Symbol, int], dict[clingo.Symbol, int]]:
    """Each derived atom's lowest-level supporting instance (a well-founded choice), and the
    level (round) at which each atom was justified. ``preset`` atoms (settled elsewhere, their
    instances not among ``instances``) are justified at their given level."""
    justified: set[clingo.Symbol] = set()
    remaining: list[int] = []
    watch: dict[clingo.Symbol, list[int]] = {}
    current: list[int] = []
    for k, inst in enumerate(instances):
        waiting = [a for a in inst.positive if not given(a)]
        remaining.append(len(waiting))
        for a in waiting:
            watch.setdefault(a, []).append(k)
        if not waiting:
            current.append(k)
    release: dict[int, list[clingo.Symbol]] = {}
    for a in watch:
        level = preset.get(a)
        if level is not None:
            release.setdefault(level, []).append(a)
    support: dict[clingo.Symbol, int] = {}
    levels: dict[clingo.Symbol, int] = {}
    level = 0
    while current or release:
        level += 1
        newly: dict[clingo.Symbol, int] = {}
        for k in sorted(current):
            head = instances[k].head
            if head not in justified and head not in newly and not given(head):
                newly[head] = k
        current = []
        ready = [(head, True) for head in newly] + [(a, False) for a in release.pop(level, ())]
        for head, derived in ready:
            justified.add(head)
            levels[head] = level
            if derived:
                support[head] = newly[head]
            for parent in watch.get(head, ()):
                remaining[parent] -= 1
                if remaining[parent] == 0:
                    current.append(parent)
    return support, levels


def _needed(
    roots: Iterable[clingo.Symbol],
    support: Mapping[clingo.Symbol, int],
    instances: Sequence[_Instance],
) -> list[clingo.Symbol]:
    """Atoms reachable from the roots, children before parents (post-order, no recursion)."""
    order: list[clingo.Symbol] = []
    done: set[int] = set()  # clingo symbol values
    for root in roots:  # sorted and unique (``_sorted_unique``)
        stack: list[tuple[clingo.Symbol, bool]] = [(root, False)]
        while stack:
            atom, expanded = stack.pop()
            if expanded:
                if atom._rep not in done:
                    done.add(atom._rep)
                    order.append(atom)
                continue
            if atom._rep in done:
                continue
            stack.append((atom, True))
            k = support.get(atom)
            if k is not None:
                stack.extend(
                    (c, False) for c in reversed(instances[k].positive) if c._rep not in done
                )
    return order


def _rule_content(
    inst: _Instance, ids: Mapping[clingo.Symbol, str], label_of: LabelOf | None
) -> dict[str, Any]:
    fixed = next((c for f, c in inst.rendered if f is label_of), None)
    if fixed is None:
        rule = inst.traced.rule
        compiled = _compiled(inst.traced)
        fixed = {
            "rule_id": rule.id,
            "file": rule.file,
            "line": rule.line,
            "label": _label(inst, label_of),
            "head": str(inst.head),
            "negative": tuple(r.render(inst.binding) for r in compiled.negative),
            "comparisons": tuple(r.render(inst.binding) for r in compiled.comparisons),
            "aggregates": tuple(r.render(inst.binding) for r in compiled.aggregates),
        }
        # one entry per labeller: a plane passes the same one for a loaded fact set
        inst.rendered[:] = [*inst.rendered[-3:], (label_of, fixed)]
    return {**fixed, "children": tuple(ids[a] for a in inst.positive)}


def _label(inst: _Instance, label_of: LabelOf | None) -> str:
    template = inst.traced.rule.label

    def show(sym: clingo.Symbol) -> str:
        named = label_of(sym) if label_of is not None else None
        return named if named is not None else render(sym)

    if template is None:
        body = ", ".join(r.render(inst.binding) for r in _compiled(inst.traced).body)
        return f"{inst.head} :- {body}" if body else str(inst.head)
    return _PLACEHOLDER.sub(
        lambda m: show(inst.binding[m.group(1)]) if m.group(1) in inst.binding else m.group(0),
        template,
    )


def _jsonable(value: object) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return json.loads(json.dumps(asdict(value), default=str, sort_keys=True))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def _hash(kind: str, content: Mapping[str, Any]) -> str:
    text = json.dumps({"kind": kind, **content}, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
