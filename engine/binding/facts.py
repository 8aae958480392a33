"""KG facts for the solver: the facts of the predicates the rules use, with their origins.

One SPARQL query per used predicate runs over the data graphs (DESIGN "Only facts of
predicates that the rules use are handed to the solver"); a class predicate also takes the
instances of its subclasses and a property predicate the values of its subproperties
(RDFS entailment, closure computed from the ontology in Python). Results are streamed and
each distinct RDF term is converted once (:class:`~engine.binding.terms.TermIndex`).

The fact text handed to clingo is built only from ``str(symbol)`` of converted symbols and
predicate names checked by the schema — never from raw input — and is sorted, so the same
KG gives the same text and the same :attr:`FactSet.revision`.

Where a fact came from is looked up only when a proof asks (:meth:`FactSet.origins`): the
triple, its graph, and the source record(s) and batch that produced it, read from the
records graphs (``?rec wr:produced <<( s p o )>>``).

>>> import pyoxigraph as ox, rdflib
>>> from engine.store.oxigraph import OxigraphStore
>>> from engine.binding.prefixes import PrefixMap
>>> from engine.binding.schema import derive_schema
>>> onto = rdflib.Graph().parse(format="turtle", data='''
...     @prefix owl: <http://www.w3.org/2002/07/owl#> .
...     <https://example.org/Vendor> a owl:Class .''')
>>> pm = PrefixMap({"ex": "https://example.org/"})
>>> store = OxigraphStore(None)
>>> g = ox.NamedNode("urn:warrant:graph:source:v")
>>> store.raw.add(ox.Quad(ox.NamedNode("https://example.org/v1"),
...     ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
...     ox.NamedNode("https://example.org/Vendor"), g))
>>> facts = load_facts(store, derive_schema(onto, prefixes=pm), used=[("vendor", 1)],
...                    graphs=[g], prefixes=pm, ontology=onto)
>>> facts.text()
'vendor("ex:v1").\\n'
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal

import clingo
import pyoxigraph as ox
import rdflib

from engine.binding.prefixes import PrefixMap
from engine.binding.schema import Predicate, Schema, descendants
from engine.binding.terms import RdfTerm, TermIndex, TermWarning
from engine.errors import StoreError
from engine.store.base import KnowledgeStore

RDF_TYPE: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
WR: Final = "https://w3id.org/warrant/core#"
PROV_GENERATED_BY: Final = "http://www.w3.org/ns/prov#wasGeneratedBy"
SOURCE_GRAPH_PREFIX: Final = "urn:warrant:graph:source:"
RECORDS_GRAPH_PREFIX: Final = "urn:warrant:graph:records:"


ONE_BY_ONE: Final = 64
"""Origins read one fact at a time per predicate, before all of the predicate's at once."""


@dataclass(frozen=True, order=True)
class RecordRef:
    """The source record that produced a triple: source, container and row or key."""

    source: str
    container: str | None
    row: int | None
    key: str | None
    iri: str

    def __str__(self) -> str:
        ident = self.key if self.key is not None else f"row={self.row}"
        return f"{self.container}#{ident}" if self.container else self.iri

    def as_dict(self) -> dict[str, Any]:
        """JSON form for proofs."""
        return {
            "source": self.source,
            "container": self.container,
            "row": self.row,
            "key": self.key,
            "iri": self.iri,
        }


@dataclass(frozen=True, order=True)
class FactOrigin:
    """One triple a fact stands on: the triple, its graph, and its batch and source record.

    ``triple`` holds N-Triples forms, ``compact`` the forms rule authors read. ``batch`` and
    ``record`` are None for a triple no record claims (e.g. loaded before provenance).
    """

    triple: tuple[str, str, str]
    compact: tuple[str, str, str]
    graph: str
    batch: str | None
    record: RecordRef | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form for proofs."""
        return {
            "triple": list(self.triple),
            "compact": list(self.compact),
            "graph": self.graph,
            "batch": self.batch,
            "record": self.record.as_dict() if self.record is not None else None,
        }


def _compact_term(term: RdfTerm, prefixes: PrefixMap) -> str:
    if isinstance(term, ox.NamedNode):
        return prefixes.compact(term.value)
    quoted = str(ox.Literal(term.value))
    if term.language:
        return f"{quoted}@{term.language}"
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return quoted
    return f"{quoted}^^{prefixes.compact(term.datatype.value)}"


def _values(var: str, terms: Collection[RdfTerm]) -> str:
    return f"VALUES ?{var} {{ {' '.join(sorted(str(t) for t in terms))} }}"


@dataclass(frozen=True)
class _Bound:
    """A used schema predicate with the IRIs it reads (itself + subclasses/subproperties)."""

    predicate: Predicate
    iris: frozenset[str]


class FactSet:
    """The facts handed to clingo, their revision, and the way back to RDF and records."""

    def __init__(
        self,
        *,
        lines: Mapping[str, Collection[str]],
        bound: Mapping[str, _Bound],
        store: KnowledgeStore,
        graphs: Sequence[ox.NamedNode],
        terms: TermIndex,
    ) -> None:
        self._lines = {sig: sorted(found) for sig, found in sorted(lines.items())}
        self._bound = dict(bound)
        self._store = store
        self._graphs = tuple(graphs)
        self.terms = terms
        """The way back from every symbol to its RDF term(s) and label."""
        self._text = "".join(line for found in self._lines.values() for line in found)
        self.revision = hashlib.sha256(self._text.encode("utf-8")).hexdigest()
        """sha256 of :meth:`text`: the KG snapshot a decision used."""
        self._origins: dict[str, _PredicateOrigins] = {}
        self._asked: dict[str, int] = {}  # origins asked for per predicate, one by one
        self._details: dict[tuple[str, str], tuple[_Record, ...]] | None = None

    def __len__(self) -> int:
        return sum(len(found) for found in self._lines.values())

    def text(self) -> str:
        """The facts as ASP text, one per line, sorted by predicate then text."""
        return self._text

    @property
    def counts(self) -> dict[str, int]:
        """Number of facts per loaded predicate signature (``vendor/1`` → 120)."""
        return {sig: len(found) for sig, found in self._lines.items()}

    @property
    def warnings(self) -> tuple[TermWarning, ...]:
        """Terms skipped (ill-typed, out of range …) or loaded against a declared range."""
        return self.terms.warnings()

    @cached_property
    def symbols(self) -> tuple[clingo.Symbol, ...]:
        """Every fact as a clingo symbol, sorted and deduplicated (built on first use)."""
        return tuple(sorted({clingo.parse_term(line[:-2]) for line in self._text_lines()}))

    def _position(self, sig: str, line: str) -> int | None:
        """Where ``line`` sits in the sorted facts of ``sig``, or None if it is not one."""
        found = self._lines.get(sig, [])
        at = bisect.bisect_left(found, line)
        return at if at < len(found) and found[at] == line else None

    def _record_details(self) -> dict[tuple[str, str], tuple[_Record, ...]]:
        """Every source record's details, read on the first origins() call (one query)."""
        if self._details is None:
            self._details = _read_record_details(self._store)
        return self._details

    def _text_lines(self) -> list[str]:
        return [line for found in self._lines.values() for line in found]

    def origins(self, atom: clingo.Symbol) -> tuple[FactOrigin, ...]:
        """The triples (with graph, batch and record) behind a fact; () if not a loaded fact.

        The first :data:`ONE_BY_ONE` calls for a predicate read one fact's origins each; the
        next reads the origins of all its facts at once (:class:`_PredicateOrigins`), kept for
        the rest. A plan for one vendor asks for a few facts of each predicate its proofs reach,
        a whole-KG plan for all of them. The :class:`FactOrigin` objects are built per call.
        """
        if atom.type != clingo.SymbolType.Function or not atom.positive:
            return ()
        sig = f"{atom.name}/{len(atom.arguments)}"
        bound = self._bound.get(sig)
        if bound is None:
            return ()
        at = self._position(sig, f"{atom}.\n")
        if at is None:
            return ()
        index = self._origins.get(sig)
        if index is None:
            asked = self._asked[sig] = self._asked.get(sig, 0) + 1
            if asked <= ONE_BY_ONE:
                one = _PredicateOrigins.read(self, sig, bound, only=atom)
                return one.origins(0, self.terms.prefixes)
            index = _PredicateOrigins.read(self, sig, bound)
            self._origins[sig] = index
        return index.origins(at, self.terms.prefixes)


@dataclass(frozen=True)
class _Record:
    """One source record's part of a FactOrigin, shared by every triple the record produced."""

    batch: str | None
    record: RecordRef


class _PredicateOrigins:
    """The origins of every fact of one predicate, read with one query, stored by column.

    Why columns: at a million facts a FactOrigin per fact (six strings, a RecordRef, tuples)
    costs hundreds of bytes each; here a triple costs two references to RDF terms shared
    with the other triples (``terms``), two small indexes (property, graph) and a reference
    to a :class:`_Record` shared by all triples of that record. FactOrigins are built when
    a proof asks for one fact.

    Layout: the facts are those of :attr:`FactSet._lines` ``[sig]`` (sorted); fact ``i`` has
    triples ``fact_start[i]:fact_start[i+1]``, triple ``t`` has records
    ``triple_start[t]:triple_start[t+1]`` (none: the triple no record claims).
    """

    def __init__(self, props: Sequence[str], graphs: Sequence[str]) -> None:
        self.props = tuple(props)
        self.graphs = tuple(graphs)
        self.fact_start = array("q", [0])
        self.subjects: list[RdfTerm] = []
        self.objects: list[RdfTerm] = []
        self.prop_at = array("H")
        self.graph_at = array("H")
        self.triple_start = array("q", [0])
        self.records: list[_Record] = []

    @classmethod
    def read(
        cls, facts: FactSet, sig: str, bound: _Bound, *, only: clingo.Symbol | None = None
    ) -> _PredicateOrigins:
        """Every (s, p, o, g) of ``bound``'s IRIs in the fact set's graphs, with the records
        that produced it, grouped by fact; with ``only``, those of that one fact (its index
        then holds that fact alone, at position 0).

        Two queries: the triples, and the triples joined with the records graphs' ``wr:produced``
        (an inner join, which Oxigraph evaluates per triple through its index; the same join
        as an OPTIONAL scans every record instead). Record details come from
        :meth:`FactSet._record_details`, read once for all predicates.
        """
        graphs = [g.value for g in facts._graphs]
        if bound.predicate.arity == 1:
            props = [RDF_TYPE]
            pattern = f"?s <{RDF_TYPE}> ?o"
            values = _values("o", [ox.NamedNode(i) for i in bound.iris])
        else:
            props = sorted(bound.iris)
            pattern = "?s ?p ?o"
            values = _values("p", [ox.NamedNode(i) for i in bound.iris])
        out = cls(props, graphs)
        lines = facts._lines.get(sig, []) if only is None else [f"{only}.\n"]
        first = ""  # one fact's terms, joined first: Oxigraph joins VALUES in order (25x)
        if only is not None:
            terms = [facts.terms.terms(arg) for arg in only.arguments]
            if not all(terms):
                out.fact_start.append(0)
                return out
            first = " ".join(_values(v, t) for v, t in zip("so", terms, strict=False)) + " "
        if not lines or not graphs:
            out.fact_start.extend([0] * len(lines))
            return out
        select = "?s ?o ?g" if bound.predicate.arity == 1 else "?s ?o ?g ?p"
        where = f"{first}{_values('g', facts._graphs)} {values} GRAPH ?g {{ {pattern} }}"
        triples = _solutions(facts._store, f"SELECT {select} WHERE {{ {where} }}")
        produced = _solutions(
            facts._store,
            f"SELECT {select} ?rg ?rec WHERE {{ {where} "
            f"GRAPH ?rg {{ ?rec <{WR}produced> <<( {pattern} )>> }} }}",
        )
        if only is None:
            out._fill(facts, bound, lines, triples, produced, facts._record_details())
            return out
        rows = list(produced)  # one fact's: its records' details are read for them alone
        rg_at, rec_at = _record_columns(bound)
        records = {(row[rg_at], row[rec_at]) for row in rows}
        details = _read_record_details(facts._store, records)
        out._fill(facts, bound, lines, triples, rows, details)
        return out

    def _fill(
        self,
        facts: FactSet,
        bound: _Bound,
        lines: Sequence[str],
        triples: Iterable[ox.QuerySolution],
        produced: Iterable[ox.QuerySolution],
        details: Mapping[tuple[str, str], tuple[_Record, ...]],
    ) -> None:
        name = bound.predicate.name
        unary = bound.predicate.arity == 1
        entries = facts.terms.entries
        prop_of = {p: i for i, p in enumerate(self.props)}
        graph_of = {g: i for i, g in enumerate(self.graphs)}
        canon: dict[RdfTerm, RdfTerm] = {}
        # fact position → (s, p, o, g) → the records that count for that triple
        found: dict[int, dict[tuple[RdfTerm, int, RdfTerm, int], set[_Record]]] = {}

        def triple_of(
            row: ox.QuerySolution,
        ) -> tuple[int, tuple[RdfTerm, int, RdfTerm, int]] | None:
            s, o, g = row[0], row[1], row[2]
            if not isinstance(s, ox.NamedNode) or not isinstance(g, ox.NamedNode):
                return None
            if not isinstance(o, ox.NamedNode | ox.Literal):
                return None
            es = entries.get(s)
            if es is None:
                return None
            if unary:
                line, p_at = f"{name}({es[0]}).\n", 0
            else:
                eo = entries.get(o)
                p = row[3]
                if eo is None or not isinstance(p, ox.NamedNode):
                    return None
                line, p_at = f"{name}({es[0]},{eo[0]}).\n", prop_of[p.value]
            at = bisect.bisect_left(lines, line)
            if at >= len(lines) or lines[at] != line:
                return None
            return at, (canon.setdefault(s, s), p_at, canon.setdefault(o, o), graph_of[g.value])

        for row in triples:
            hit = triple_of(row)
            if hit is not None:
                found.setdefault(hit[0], {}).setdefault(hit[1], set())
        rg_at, rec_at = _record_columns(bound)
        for row in produced:
            hit = triple_of(row)
            rg, rec = row[rg_at], row[rec_at]
            if hit is None or not isinstance(rg, ox.NamedNode) or not isinstance(rec, ox.NamedNode):
                continue
            graph = self.graphs[hit[1][3]]
            if not _counts(rg.value, graph):
                continue
            records = found.setdefault(hit[0], {}).setdefault(hit[1], set())
            default = (
                _Record(
                    None,
                    RecordRef(rg.value[len(RECORDS_GRAPH_PREFIX) :], None, None, None, rec.value),
                ),
            )
            records.update(details.get((rg.value, rec.value), default))
        for at in range(len(lines)):
            for (s, p_at, o, g_at), records in found.get(at, {}).items():
                self.subjects.append(s)
                self.objects.append(o)
                self.prop_at.append(p_at)
                self.graph_at.append(g_at)
                self.records.extend(records)
                self.triple_start.append(len(self.records))
            self.fact_start.append(len(self.subjects))

    def origins(self, at: int, prefixes: PrefixMap) -> tuple[FactOrigin, ...]:
        """The FactOrigins of the fact at position ``at``, sorted."""
        out: list[FactOrigin] = []
        for t in range(self.fact_start[at], self.fact_start[at + 1]):
            s, o = self.subjects[t], self.objects[t]
            p = self.props[self.prop_at[t]]
            g = self.graphs[self.graph_at[t]]
            assert isinstance(s, ox.NamedNode)
            triple = (str(s), f"<{p}>", str(o))
            compact = (prefixes.compact(s.value), prefixes.compact(p), _compact_term(o, prefixes))
            records = self.records[self.triple_start[t] : self.triple_start[t + 1]]
            if not records:
                out.append(FactOrigin(triple, compact, g, None, None))
            out.extend(FactOrigin(triple, compact, g, r.batch, r.record) for r in records)
        return tuple(sorted(set(out)))


def _record_columns(bound: _Bound) -> tuple[int, int]:
    """Where a ``produced`` row holds its records graph and record: after ``?s ?o ?g``, and
    ``?p`` for a property predicate."""
    return (3, 4) if bound.predicate.arity == 1 else (4, 5)


def _counts(records_graph: str, graph: str) -> bool:
    """Whether a record of ``records_graph`` counts for a triple of ``graph``: any records
    graph does, but for a triple of a source graph only that source's records graph."""
    if not records_graph.startswith(RECORDS_GRAPH_PREFIX):
        return False
    if not graph.startswith(SOURCE_GRAPH_PREFIX):
        return True
    return records_graph[len(RECORDS_GRAPH_PREFIX) :] == graph[len(SOURCE_GRAPH_PREFIX) :]


_DETAILS: Final = (
    f"{WR}fromSource",
    f"{WR}container",
    f"{WR}row",
    f"{WR}key",
    PROV_GENERATED_BY,
)


def _read_record_details(
    store: KnowledgeStore, records: Collection[tuple[object, object]] | None = None
) -> dict[tuple[str, str], tuple[_Record, ...]]:
    """(records graph, record IRI) → its records, one per combination of its details: of
    every record, or of ``records`` ((records graph, record) terms of a query's rows).

    What ``OPTIONAL`` per detail gives, per record: several values of a detail give several
    records (a cross product), a missing one None, the source defaulting to the records
    graph's name; a value of the wrong kind reads as missing.
    """
    which = ""
    if records is not None:
        pairs = sorted(
            f"({rg} {rec})"
            for rg, rec in records
            if isinstance(rg, ox.NamedNode) and isinstance(rec, ox.NamedNode)
        )
        if not pairs:
            return {}
        which = f"VALUES (?rg ?rec) {{ {' '.join(pairs)} }} "
    query = (
        f"SELECT ?rg ?rec ?d ?v WHERE {{ {which}"
        f"{_values('d', [ox.NamedNode(d) for d in _DETAILS])} GRAPH ?rg {{ ?rec ?d ?v }} }}"
    )
    values: dict[tuple[str, str], list[list[object]]] = {}
    where = {d: i for i, d in enumerate(_DETAILS)}
    for rg, rec, d, v in _solutions(store, query):
        if not isinstance(rg, ox.NamedNode) or not rg.value.startswith(RECORDS_GRAPH_PREFIX):
            continue
        if not isinstance(rec, ox.NamedNode) or not isinstance(d, ox.NamedNode):
            continue
        slots = values.setdefault((rg.value, rec.value), [[], [], [], [], []])
        slots[where[d.value]].append(v)
    shared: dict[_Record, _Record] = {}
    out: dict[tuple[str, str], tuple[_Record, ...]] = {}
    for (rg_iri, rec_iri), (srcs, containers, rows, keys, batches) in values.items():
        name = rg_iri[len(RECORDS_GRAPH_PREFIX) :]
        made: set[_Record] = set()
        for src, container, n, key, batch in itertools.product(
            srcs or [None], containers or [None], rows or [None], keys or [None], batches or [None]
        ):
            record = _Record(
                batch.value if isinstance(batch, ox.NamedNode) else None,
                RecordRef(
                    source=src.value if isinstance(src, ox.Literal) else name,
                    container=container.value if isinstance(container, ox.Literal) else None,
                    row=_int_or_none(n),
                    key=key.value if isinstance(key, ox.Literal) else None,
                    iri=rec_iri,
                ),
            )
            made.add(shared.setdefault(record, record))
        out[(rg_iri, rec_iri)] = tuple(made)
    return out


def _int_or_none(term: object) -> int | None:
    if isinstance(term, ox.Literal):
        try:
            return int(term.value)
        except ValueError:
            return None
    return None


def _solutions(store: KnowledgeStore, query: str) -> ox.QuerySolutions:
    result = store.query(query)
    if not isinstance(result, ox.QuerySolutions):  # pragma: no cover - SELECT always is
        raise StoreError("the store answered a SELECT query with something else")
    return result


def _load_class(
    store: KnowledgeStore, bound: _Bound, graph_values: str, index: TermIndex, out: set[str]
) -> None:
    name = bound.predicate.name
    classes = _values("c", [ox.NamedNode(i) for i in bound.iris])
    query = f"SELECT ?s WHERE {{ {graph_values} {classes} GRAPH ?g {{ ?s <{RDF_TYPE}> ?c }} }}"
    entries = index.entries
    sig = bound.predicate.signature
    for (s,) in _solutions(store, query):
        es = entries.get(s) or index.add(s, predicate=sig)
        if es is not None:
            out.add(f"{name}({es[0]}).\n")


def _load_property(
    store: KnowledgeStore, bound: _Bound, graph_values: str, index: TermIndex, out: set[str]
) -> None:
    pred = bound.predicate
    name, sig = pred.name, pred.signature
    if len(bound.iris) == 1:
        pattern = f"?s <{next(iter(bound.iris))}> ?o"
        props = ""
    else:
        pattern = "?s ?p ?o"
        props = _values("p", [ox.NamedNode(i) for i in bound.iris])
    query = f"SELECT ?s ?o WHERE {{ {graph_values} {props} GRAPH ?g {{ {pattern} }} }}"
    expected = pred.arg_types[1] if pred.declared_range is not None else None
    entries = index.entries
    add = out.add
    for s, o in _solutions(store, query):  # unpacking beats row[i] in pyoxigraph
        es = entries.get(s) or index.add(s, predicate=sig)
        eo = entries.get(o) or index.add(o, predicate=sig)
        if es is None or eo is None:
            continue
        if expected is not None and eo[1] != expected:
            index.skip(o, "type_mismatch", predicate=sig)
        add(f"{name}({es[0]},{eo[0]}).\n")


def load_facts(
    store: KnowledgeStore,
    schema: Schema,
    *,
    used: Collection[tuple[str, int]],
    graphs: Sequence[ox.NamedNode],
    prefixes: PrefixMap,
    ontology: rdflib.Graph | None,
) -> FactSet:
    """The facts of the schema predicates in ``used`` found in ``graphs``.

    ``used`` are the ``(name, arity)`` pairs the rules mention; pairs the schema does not
    define (rule-defined predicates, typos) are ignored here and reported by the checker.
    With ``ontology`` None no subclass / subproperty closure is taken.
    """
    index = TermIndex(prefixes=prefixes, store=store)
    bound: dict[str, _Bound] = {}
    for name, arity in sorted(set(used)):
        pred = schema.get(name, arity)
        if pred is None:
            continue
        iris = None
        if ontology is not None:
            via: Literal["class", "property"] = "class" if pred.kind == "class" else "property"
            iris = descendants(ontology, pred.iri, via=via)
        bound[pred.signature] = _Bound(pred, iris or frozenset({pred.iri}))
    graph_values = _values("g", graphs)
    lines: dict[str, set[str]] = {}
    for sig, item in bound.items():
        found: set[str] = set()
        if graphs:
            loader = _load_class if item.predicate.arity == 1 else _load_property
            loader(store, item, graph_values, index, found)
        lines[sig] = found
    return FactSet(lines=lines, bound=bound, store=store, graphs=graphs, terms=index)
