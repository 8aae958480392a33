"""Measure load_facts on a generated KG (not a test).

Run: ``PYTHONPATH=. python tests/data/binding/bench_load_facts.py 100000``.

Generates vendors with a type, a risk score, a criticality, a sub-processor link, a last audit
date and a name (6 triples each) in one source graph of an in-memory Oxigraph store, then
loads the facts of all six predicates and prints facts/s next to the raw pyoxigraph scan.
"""

from __future__ import annotations

import sys
import time

import pyoxigraph as ox
import rdflib

from engine.binding.facts import load_facts
from engine.binding.prefixes import PrefixMap
from engine.binding.schema import derive_schema
from engine.store.oxigraph import OxigraphStore

VR = "https://w3id.org/warrant/vendor-risk#"
ACME = "https://id.acme.example/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ONTOLOGY = f"""
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <{XSD}> . @prefix vr: <{VR}> .
vr:Vendor a owl:Class . vr:CriticalityLevel a owl:Class .
vr:riskScore a owl:DatatypeProperty ; rdfs:range xsd:integer .
vr:lastAuditDate a owl:DatatypeProperty ; rdfs:range xsd:date .
vr:legalName a owl:DatatypeProperty ; rdfs:range xsd:string .
vr:criticality a owl:ObjectProperty ; rdfs:range vr:CriticalityLevel .
vr:subprocessorOf a owl:ObjectProperty ; rdfs:range vr:Vendor .
"""


def main(triples: int) -> None:
    vendors = triples // 6
    store = OxigraphStore(None)
    g = ox.NamedNode("urn:warrant:graph:source:vendors")
    quads = []
    for i in range(vendors):
        s = ox.NamedNode(f"{ACME}vendor/V{i:07d}")
        quads += [
            ox.Quad(s, RDF_TYPE, ox.NamedNode(VR + "Vendor"), g),
            ox.Quad(s, ox.NamedNode(VR + "riskScore"),
                    ox.Literal(str(i % 101), datatype=ox.NamedNode(XSD + "integer")), g),
            ox.Quad(s, ox.NamedNode(VR + "criticality"),
                    ox.NamedNode(VR + ("low", "medium", "high", "critical")[i % 4]), g),
            ox.Quad(s, ox.NamedNode(VR + "subprocessorOf"),
                    ox.NamedNode(f"{ACME}vendor/V{(i * 7 + 1) % vendors:07d}"), g),
            ox.Quad(s, ox.NamedNode(VR + "lastAuditDate"),
                    ox.Literal(f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                               datatype=ox.NamedNode(XSD + "date")), g),
            ox.Quad(s, ox.NamedNode(VR + "legalName"), ox.Literal(f'Vendor "{i}" Ltd'), g),
        ]
    store.raw.extend(quads)
    onto = rdflib.Graph().parse(data=ONTOLOGY, format="turtle")
    pm = PrefixMap.standard({"acme": ACME})
    schema = derive_schema(onto, prefixes=pm)
    used = [(p.name, p.arity) for p in schema]

    t0 = time.perf_counter()
    raw = sum(1 for _ in store.raw.quads_for_pattern(None, None, None, g))
    assert raw == len(quads)
    t1 = time.perf_counter()
    facts = load_facts(store, schema, used=used, graphs=[g], prefixes=pm, ontology=onto)
    t2 = time.perf_counter()
    text = facts.text()
    print(f"{len(quads)} triples, {len(facts)} facts, {len(text) / 1e6:.1f} MB of ASP text")
    print(f"raw pyoxigraph scan: {t1 - t0:.2f} s")
    print(f"load_facts: {t2 - t1:.2f} s = {len(facts) / (t2 - t1):,.0f} facts/s")
    print(f"warnings: {[str(w) for w in facts.warnings]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
