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
from collections.abc import Collection, Mapping, Sequence
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
        return {"source": self.source, "container": self.container, "row": self.row,
                "key": self.key, "iri": self.iri}


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
        self._origins: dict[str, tuple[FactOrigin, ...]] = {}

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

    def _has_line(self, sig: str, line: str) -> bool:
        found = self._lines.get(sig, [])
        at = bisect.bisect_left(found, line)
        return at < len(found) and found[at] == line

    def _text_lines(self) -> list[str]:
        return [line for found in self._lines.values() for line in found]

    def origins(self, atom: clingo.Symbol) -> tuple[FactOrigin, ...]:
        """The triples (with graph, batch and record) behind a fact; () if not a loaded fact."""
        if atom.type != clingo.SymbolType.Function or not atom.positive:
            return ()
        sig = f"{atom.name}/{len(atom.arguments)}"
        bound = self._bound.get(sig)
        line = f"{atom}.\n"
        if bound is None or not self._has_line(sig, line):
            return ()
        hit = self._origins.get(line)
        if hit is None:
            hit = self._find_origins(bound, atom.arguments)
            self._origins[line] = hit
        return hit

    def _find_origins(self, bound: _Bound, args: Sequence[clingo.Symbol]) -> (
        tuple[FactOrigin, ...]
    ):
        subjects = [t for t in self.terms.terms(args[0]) if isinstance(t, ox.NamedNode)]
        if bound.predicate.arity == 1:
            props: Collection[RdfTerm] = [ox.NamedNode(RDF_TYPE)]
            objects: Collection[RdfTerm] = [ox.NamedNode(i) for i in bound.iris]
        else:
            props = [ox.NamedNode(i) for i in bound.iris]
            objects = self.terms.terms(args[1])
        if not subjects or not objects:
            return ()
        query = (
            f"SELECT ?s ?p ?o ?g WHERE {{ {_values('g', self._graphs)} {_values('s', subjects)} "
            f"{_values('p', props)} {_values('o', objects)} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        found: set[FactOrigin] = set()
        for row in _solutions(self._store, query):
            s, p, o, g = row[0], row[1], row[2], row[3]
            assert isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode)
            assert isinstance(o, ox.NamedNode | ox.Literal) and isinstance(g, ox.NamedNode)
            found.update(self._records(s, p, o, g))
        return tuple(sorted(found))

    def _records(self, s: ox.NamedNode, p: ox.NamedNode, o: RdfTerm, g: ox.NamedNode) -> (
        list[FactOrigin]
    ):
        pm = self.terms.prefixes
        triple = (str(s), str(p), str(o))
        compact = (pm.compact(s.value), pm.compact(p.value), _compact_term(o, pm))
        query = (
            f"SELECT ?rg ?rec ?src ?container ?row ?key ?batch WHERE {{ GRAPH ?rg {{ "
            f"?rec <{WR}produced> <<( {s} {p} {o} )>> . "
            f"OPTIONAL {{ ?rec <{WR}fromSource> ?src }} "
            f"OPTIONAL {{ ?rec <{WR}container> ?container }} "
            f"OPTIONAL {{ ?rec <{WR}row> ?row }} OPTIONAL {{ ?rec <{WR}key> ?key }} "
            f"OPTIONAL {{ ?rec <{PROV_GENERATED_BY}> ?batch }} }} }}"
        )
        wanted = None
        if g.value.startswith(SOURCE_GRAPH_PREFIX):
            wanted = RECORDS_GRAPH_PREFIX + g.value[len(SOURCE_GRAPH_PREFIX) :]
        out: list[FactOrigin] = []
        for row in _solutions(self._store, query):
            rg, rec = row[0], row[1]
            if not isinstance(rg, ox.NamedNode) or not isinstance(rec, ox.NamedNode):
                continue
            if not rg.value.startswith(RECORDS_GRAPH_PREFIX):
                continue
            if wanted is not None and rg.value != wanted:
                continue
            name = rg.value[len(RECORDS_GRAPH_PREFIX) :]
            src, container, n, key, batch = row[2], row[3], row[4], row[5], row[6]
            record = RecordRef(
                source=src.value if isinstance(src, ox.Literal) else name,
                container=container.value if isinstance(container, ox.Literal) else None,
                row=_int_or_none(n),
                key=key.value if isinstance(key, ox.Literal) else None,
                iri=rec.value,
            )
            out.append(
                FactOrigin(triple, compact, g.value,
                           batch.value if isinstance(batch, ox.NamedNode) else None, record)
            )
        return out or [FactOrigin(triple, compact, g.value, None, None)]


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


def _load_class(store: KnowledgeStore, bound: _Bound, graph_values: str, index: TermIndex,
                out: set[str]) -> None:
    name = bound.predicate.name
    classes = _values("c", [ox.NamedNode(i) for i in bound.iris])
    query = (
        f"SELECT ?s WHERE {{ {graph_values} {classes} GRAPH ?g {{ ?s <{RDF_TYPE}> ?c }} }}"
    )
    entries = index.entries
    sig = bound.predicate.signature
    for (s,) in _solutions(store, query):
        es = entries.get(s) or index.add(s, predicate=sig)
        if es is not None:
            out.add(f"{name}({es[0]}).\n")


def _load_property(store: KnowledgeStore, bound: _Bound, graph_values: str, index: TermIndex,
                   out: set[str]) -> None:
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
