"""Origin resolution, one fact at a time and for a whole predicate at once, agrees fact for
fact with a plain per-fact query path.

:func:`reference_origins` is that path (two SPARQL queries per fact: the triples, then each
triple's records), kept here as the reference model. It is compared with
:meth:`FactSet.origins` in both of its modes (``ONE_BY_ONE`` lookups per predicate, then the
whole predicate) on every fact of the binding fixture (extended with awkward records) and of
a generated workspace ingested the way ``warrant ingest`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import clingo
import pyoxigraph as ox
import pytest
import rdflib

import engine.binding.facts as facts_module
from bench.generate import generate
from bench.prepare import ingest_all, utc_now
from engine.binding.facts import (
    PROV_GENERATED_BY,
    RDF_TYPE,
    RECORDS_GRAPH_PREFIX,
    SOURCE_GRAPH_PREFIX,
    WR,
    FactOrigin,
    FactSet,
    RecordRef,
    load_facts,
)
from engine.binding.prefixes import PrefixMap
from engine.binding.schema import Schema, derive_schema, descendants
from engine.binding.terms import RdfTerm
from engine.planning import DecisionPlane
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

DATA = Path(__file__).parent / "data" / "binding"
EX = "https://example.org/gov#"
ACME = "https://id.acme.example/"
VENDORS = ox.NamedNode("urn:warrant:graph:source:vendors")
HR = ox.NamedNode("urn:warrant:graph:source:hr")
REFERENCE = ox.NamedNode("http://example.org/graphs/reference")
USED = [
    ("vendor", 1),
    ("employee", 1),
    ("risk_score", 2),
    ("last_audit_date", 2),
    ("is_active", 2),
    ("legal_name", 2),
    ("annual_spend", 2),
    ("reviewed_at", 2),
    ("subprocessor_of", 2),
]
RECORDS_VENDORS = "urn:warrant:graph:records:vendors"
RECORDS_HR = "urn:warrant:graph:records:hr"

# Awkward records: two records of one triple (one keyed, as a push makes them), a record
# with two batches, a record without any detail, a record in the wrong records graph, and
# records for a triple of a graph that is not a source graph (any records graph counts).
EXTRA = f"""
@prefix ex: <{EX}> . @prefix acme: <{ACME}> . @prefix wr: <{WR}> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<{VENDORS.value}> {{ acme:vendor\\/V010 a ex:Vendor ; ex:riskScore 10 .
    acme:vendor\\/V011 a ex:TierOneVendor ; ex:directSubprocessorOf acme:vendor\\/V010 . }}
<{REFERENCE.value}> {{ acme:vendor\\/V010 ex:riskScore 11 . }}
<{RECORDS_VENDORS}> {{
    <urn:r:a> wr:fromSource "vendors" ; wr:container "v.csv" ; wr:row 7 ;
        prov:wasGeneratedBy <urn:b:1> , <urn:b:2> ;
        wr:produced <<( acme:vendor\\/V010 a ex:Vendor )>> ,
            <<( acme:vendor\\/V010 ex:riskScore 10 )>> .
    <urn:r:b> wr:fromSource "vendors" ; wr:container "v.csv" ; wr:key "id=V010" ;
        prov:wasGeneratedBy <urn:b:3> ; wr:produced <<( acme:vendor\\/V010 a ex:Vendor )>> .
    <urn:r:c> wr:produced <<( acme:vendor\\/V011 ex:directSubprocessorOf acme:vendor\\/V010 )>> ,
        <<( acme:vendor\\/V010 ex:riskScore 11 )>> .
}}
<{RECORDS_HR}> {{
    <urn:r:d> wr:fromSource "hr" ; wr:row "x" ;
        wr:produced <<( acme:vendor\\/V011 a ex:TierOneVendor )>> ,
        <<( acme:vendor\\/V010 ex:riskScore 11 )>> .
}}
"""


def _values(var: str, terms: Collection[RdfTerm]) -> str:
    return f"VALUES ?{var} {{ {' '.join(sorted(str(t) for t in terms))} }}"


def _select(store: OxigraphStore, query: str) -> list[ox.QuerySolution]:
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def _compact(term: RdfTerm, pm: PrefixMap) -> str:
    if isinstance(term, ox.NamedNode):
        return pm.compact(term.value)
    quoted = str(ox.Literal(term.value))
    if term.language:
        return f"{quoted}@{term.language}"
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return quoted
    return f"{quoted}^^{pm.compact(term.datatype.value)}"


def _records(
    store: OxigraphStore,
    pm: PrefixMap,
    s: ox.NamedNode,
    p: ox.NamedNode,
    o: RdfTerm,
    g: ox.NamedNode,
) -> list[FactOrigin]:
    triple = (str(s), str(p), str(o))
    compact = (pm.compact(s.value), pm.compact(p.value), _compact(o, pm))
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
    for row in _select(store, query):
        rg, rec = row[0], row[1]
        if not isinstance(rg, ox.NamedNode) or not isinstance(rec, ox.NamedNode):
            continue
        if not rg.value.startswith(RECORDS_GRAPH_PREFIX):
            continue
        if wanted is not None and rg.value != wanted:
            continue
        src, container, n, key, batch = row[2], row[3], row[4], row[5], row[6]
        number = None
        if isinstance(n, ox.Literal):
            try:
                number = int(n.value)
            except ValueError:
                number = None
        record = RecordRef(
            source=src.value
            if isinstance(src, ox.Literal)
            else rg.value[len(RECORDS_GRAPH_PREFIX) :],
            container=container.value if isinstance(container, ox.Literal) else None,
            row=number,
            key=key.value if isinstance(key, ox.Literal) else None,
            iri=rec.value,
        )
        out.append(
            FactOrigin(
                triple,
                compact,
                g.value,
                batch.value if isinstance(batch, ox.NamedNode) else None,
                record,
            )
        )
    return out or [FactOrigin(triple, compact, g.value, None, None)]


def reference_origins(
    facts: FactSet,
    store: OxigraphStore,
    graphs: Sequence[ox.NamedNode],
    iris: Collection[str],
    atom: clingo.Symbol,
) -> tuple[FactOrigin, ...]:
    """The per-fact path: the triples of one fact, then per triple its records."""
    args = atom.arguments
    subjects = [t for t in facts.terms.terms(args[0]) if isinstance(t, ox.NamedNode)]
    if len(args) == 1:
        props: Collection[RdfTerm] = [ox.NamedNode(RDF_TYPE)]
        objects: Collection[RdfTerm] = [ox.NamedNode(i) for i in iris]
    else:
        props = [ox.NamedNode(i) for i in iris]
        objects = facts.terms.terms(args[1])
    if not subjects or not objects:
        return ()
    query = (
        f"SELECT ?s ?p ?o ?g WHERE {{ {_values('g', graphs)} {_values('s', subjects)} "
        f"{_values('p', props)} {_values('o', objects)} GRAPH ?g {{ ?s ?p ?o }} }}"
    )
    found: set[FactOrigin] = set()
    for row in _select(store, query):
        s, p, o, g = row[0], row[1], row[2], row[3]
        assert isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode)
        assert isinstance(o, ox.NamedNode | ox.Literal) and isinstance(g, ox.NamedNode)
        found.update(_records(store, facts.terms.prefixes, s, p, o, g))
    return tuple(sorted(found))


def _closure(schema: Schema, ontology: rdflib.Graph, sig: str) -> frozenset[str]:
    name, arity = sig.rsplit("/", 1)
    pred = schema.get(name, int(arity))
    assert pred is not None
    via: Any = "class" if pred.kind == "class" else "property"
    return descendants(ontology, pred.iri, via=via) or frozenset({pred.iri})


def _compare_all(
    facts: FactSet,
    store: OxigraphStore,
    graphs: Sequence[ox.NamedNode],
    schema: Schema,
    ontology: rdflib.Graph,
) -> list[tuple[FactOrigin, ...]]:
    closures = {sig: _closure(schema, ontology, sig) for sig in facts.counts}
    got = []
    for line in facts.text().splitlines():
        atom = clingo.parse_term(line[:-1])
        sig = f"{atom.name}/{len(atom.arguments)}"
        new = facts.origins(atom)
        assert new == reference_origins(facts, store, graphs, closures[sig], atom), line
        assert new, line
        got.append(new)
    return got


class _CountingStore(OxigraphStore):
    """The real store, counting the queries it answers."""

    queries = 0

    def query(self, sparql: str, **kwargs: Any) -> Any:
        self.queries += 1
        return super().query(sparql, **kwargs)


@pytest.fixture(params=["one by one", "whole predicate"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Resolve every fact one at a time, or every predicate at once on its first fact."""
    monkeypatch.setattr(facts_module, "ONE_BY_ONE", 10**9 if request.param == "one by one" else 0)
    return str(request.param)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "ontology.ttl")


@pytest.fixture(scope="module")
def prefixes(ontology: rdflib.Graph) -> PrefixMap:
    return PrefixMap.from_graph(ontology, base=PrefixMap.standard({"acme": ACME}))


@pytest.fixture(scope="module")
def schema(ontology: rdflib.Graph, prefixes: PrefixMap) -> Schema:
    return derive_schema(ontology, prefixes=prefixes)


@pytest.fixture(scope="module")
def store() -> _CountingStore:
    s = _CountingStore(None)
    s.raw.load(path=str(DATA / "kg.trig"), format=ox.RdfFormat.TRIG)
    s.raw.load(EXTRA.encode(), format=ox.RdfFormat.TRIG)
    return s


@pytest.mark.parametrize("graphs", [[VENDORS, HR], [VENDORS, HR, REFERENCE], [HR]])
def test_both_modes_agree_with_per_fact_queries(
    mode: str,
    store: _CountingStore,
    schema: Schema,
    prefixes: PrefixMap,
    ontology: rdflib.Graph,
    graphs: list[ox.NamedNode],
) -> None:
    facts = load_facts(
        store, schema, used=USED, graphs=graphs, prefixes=prefixes, ontology=ontology
    )
    got = _compare_all(facts, store, graphs, schema, ontology)
    assert len(got) == len(facts)


def test_the_awkward_records(
    mode: str, store: _CountingStore, schema: Schema, prefixes: PrefixMap, ontology: rdflib.Graph
) -> None:
    graphs = [VENDORS, HR, REFERENCE]
    facts = load_facts(
        store, schema, used=USED, graphs=graphs, prefixes=prefixes, ontology=ontology
    )
    vendor = facts.origins(clingo.parse_term('vendor("acme:vendor/V010")'))
    assert [(o.batch, str(o.record)) for o in vendor] == [
        ("urn:b:1", "v.csv#row=7"),
        ("urn:b:2", "v.csv#row=7"),
        ("urn:b:3", "v.csv#id=V010"),
    ]
    # subclass: the record in the hr records graph does not count for the vendors graph
    (tier,) = facts.origins(clingo.parse_term('vendor("acme:vendor/V011")'))
    assert tier.compact[2] == "ex:TierOneVendor" and tier.record is None
    # subproperty; a record without details takes its records graph's name as source
    (sub,) = facts.origins(
        clingo.parse_term('subprocessor_of("acme:vendor/V011","acme:vendor/V010")')
    )
    assert sub.record == RecordRef("vendors", None, None, None, "urn:r:c")
    # a non-source graph takes the records of any records graph; `row "x"` reads as None
    found = facts.origins(clingo.parse_term('risk_score("acme:vendor/V010",11)'))
    assert [
        (o.graph, o.record.source if o.record else None, o.record.row if o.record else None)
        for o in found
    ] == [(REFERENCE.value, "hr", None), (REFERENCE.value, "vendors", None)]


@pytest.fixture
def vendor_facts(
    store: _CountingStore,
    schema: Schema,
    prefixes: PrefixMap,
    ontology: rdflib.Graph,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[int], FactSet]:
    """The vendors' and HR facts, resolving ``n`` origins per predicate one by one."""

    def make(n: int) -> FactSet:
        monkeypatch.setattr(facts_module, "ONE_BY_ONE", n)
        return load_facts(
            store, schema, used=USED, graphs=[VENDORS, HR], prefixes=prefixes, ontology=ontology
        )

    return make


def test_one_predicate_is_resolved_once(
    store: _CountingStore, vendor_facts: Callable[[int], FactSet]
) -> None:
    facts = vendor_facts(0)
    before = store.queries
    first = facts.origins(clingo.parse_term('vendor("acme:vendor/V001")'))
    spent = store.queries - before
    assert 1 <= spent <= 3  # the record details (once per fact set) and the vendor triples
    for v in ("V001", "V003", "V010"):
        assert facts.origins(clingo.parse_term(f'vendor("acme:vendor/{v}")'))
    assert store.queries - before == spent
    assert facts.origins(clingo.parse_term('vendor("acme:vendor/V001")')) == first
    facts.origins(clingo.parse_term('risk_score("acme:vendor/V001",72)'))
    assert store.queries - before == spent + 2  # another predicate: its own two queries


def test_a_few_facts_are_resolved_one_by_one_then_the_predicate(
    store: _CountingStore, vendor_facts: Callable[[int], FactSet]
) -> None:
    """What a plan for one vendor asks for costs its facts' queries, not every fact's; the
    lookup past ``ONE_BY_ONE`` reads the whole predicate once, and it is kept."""
    facts = vendor_facts(2)
    before = store.queries
    one = facts.origins(clingo.parse_term('vendor("acme:vendor/V001")'))
    assert one and store.queries - before == 3  # its triples, their records, their details
    facts.origins(clingo.parse_term('vendor("acme:vendor/V003")'))
    assert store.queries - before == 6
    facts.origins(clingo.parse_term('vendor("acme:vendor/V010")'))  # the third: all at once
    spent = store.queries - before
    assert facts.origins(clingo.parse_term('vendor("acme:vendor/V001")')) == one
    assert store.queries - before == spent


@pytest.mark.parametrize(
    "atom",
    [
        'vendor("acme:vendor/V404")',
        'risk_score("acme:vendor/V010",12)',
        'web_service("x")',
        "unknown(1,2)",
        "42",
        '"acme:vendor/V001"',
        '-vendor("acme:vendor/V010")',
    ],
)
def test_not_a_fact_has_no_origins(
    store: _CountingStore, schema: Schema, prefixes: PrefixMap, ontology: rdflib.Graph, atom: str
) -> None:
    facts = load_facts(
        store, schema, used=USED, graphs=[VENDORS, HR], prefixes=prefixes, ontology=ontology
    )
    assert facts.origins(clingo.parse_term(atom)) == ()


def test_no_graphs_no_origins(
    store: _CountingStore, schema: Schema, prefixes: PrefixMap, ontology: rdflib.Graph
) -> None:
    facts = load_facts(store, schema, used=USED, graphs=[], prefixes=prefixes, ontology=ontology)
    assert facts.origins(clingo.parse_term('vendor("acme:vendor/V001")')) == ()


def test_generated_workspace_agrees(mode: str, tmp_path: Path) -> None:
    """Every fact of a generated, ingested workspace (pulled CSV/JSON records, subclasses,
    subproperties) resolves as the per-fact path does."""
    ws = generate(tmp_path / "ws", triples=2000)
    ingest_all(ws.root, tmp_path / "store")
    store = OxigraphStore(tmp_path / "store", read_only=True)
    ws_ = Workspace.load(ws.root)
    plane = DecisionPlane(ws_, store, clock=utc_now)
    facts, _ = plane.facts()
    ontology = plane.ontology()
    graphs = [ox.NamedNode(ws_.source_graph(n)) for n in ws_.config.sources]
    got = _compare_all(facts, store, graphs, plane.schema(), ontology)
    assert len(got) == len(facts) > 100
    assert all(o.record is not None for found in got for o in found)
