"""ASP predicates derived from the ontology: the header file rule authors read.

A class gives a unary predicate, a property a binary one (DESIGN "Binding: ontology → ASP").
The name is the snake_case of the IRI's local name (``vr:hasCertification`` →
``has_certification``) unless ``wr:aspName`` overrides it. Names must be unique — two IRIs
with one name (whatever their arities, so that an arity slip in a rule is caught as a typo)
are an error that names both IRIs — and must not be one of the engine's reserved names.

>>> import rdflib
>>> g = rdflib.Graph().parse(format="turtle", data='''
...     @prefix owl: <http://www.w3.org/2002/07/owl#> .
...     @prefix ex: <https://example.org/> .
...     ex:Vendor a owl:Class . ex:hasAccessTo a owl:ObjectProperty .''')
>>> schema = derive_schema(g, prefixes=PrefixMap({"ex": "https://example.org/"}))
>>> [f"{p.name}/{p.arity}" for p in schema.predicates]
['has_access_to/2', 'vendor/1']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from engine.binding.prefixes import PrefixMap
from engine.binding.terms import ArgType
from engine.errors import OntologyError

PredicateKind = Literal["class", "object_property", "datatype_property", "property"]

WR_ASP_NAME: Final = rdflib.URIRef("https://w3id.org/warrant/core#aspName")
RESERVED_NAMES: Final = frozenset(
    {
        "request", "param", "now", "action", "after", "deny", "escalate",
        "violation", "finding", "proposed", "cost",
    }
)
"""Predicate names the engine owns (DESIGN "Rules contract"); the ontology may not produce them."""

IDENTIFIER: Final = re.compile(r"[a-z][A-Za-z0-9_']*")
"""A clingo identifier usable as a predicate name (ASP-Core-2 §2, plus clingo's ``'``)."""

_BUILTIN_NAMESPACES: Final = (str(RDF), str(RDFS), str(OWL), str(XSD))
_PROPERTY_TYPES: Final = {
    OWL.ObjectProperty: "object_property",
    OWL.DatatypeProperty: "datatype_property",
    RDF.Property: "property",
    OWL.FunctionalProperty: "property",
    OWL.InverseFunctionalProperty: "property",
    OWL.TransitiveProperty: "property",
    OWL.SymmetricProperty: "property",
    OWL.AsymmetricProperty: "property",
    OWL.ReflexiveProperty: "property",
    OWL.IrreflexiveProperty: "property",
}
_KIND_RANK: Final = {"object_property": 0, "datatype_property": 1, "property": 2}
_DATATYPES: Final[dict[str, ArgType]] = {
    **{
        str(XSD[n]): "int"
        for n in (
            "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
            "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
            "unsignedShort", "unsignedByte",
        )
    },
    str(XSD.date): "date",
    str(XSD.dateTime): "datetime",
    str(XSD.dateTimeStamp): "datetime",
    str(XSD.boolean): "bool",
}
_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


def local_name(iri: str) -> str:
    """The part of an IRI after its last ``#``, ``/`` or ``:`` (trailing ones ignored)."""
    stripped = iri.rstrip("#/:")
    cut = max(stripped.rfind(sep) for sep in "#/:")
    return stripped[cut + 1 :]


def snake_case(name: str) -> str:
    """``hasAccessTo`` → ``has_access_to``, ``ISO27001Cert`` → ``iso27001_cert``.

    Acronyms stay one word (``HTTPServer`` → ``http_server``), digits stick to the word
    before them, accents are dropped (``Données`` → ``donnees``), any other character
    separates words, and a name starting with a digit gets the prefix ``n``
    (``3rdParty`` → ``n3rd_party``). ``""`` when nothing usable is left.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    spaced = _NON_WORD.sub("_", ascii_name)
    spaced = _ACRONYM_WORD.sub(r"\1_\2", spaced)
    spaced = _LOWER_UPPER.sub(r"\1_\2", spaced)
    out = "_".join(w for w in spaced.lower().split("_") if w)
    return "n" + out if out[:1].isdigit() else out


@dataclass(frozen=True, order=True)
class Predicate:
    """One ASP predicate bound to a class or property of the ontology."""

    name: str
    arity: int
    iri: str
    arg_types: tuple[ArgType, ...]
    kind: PredicateKind
    label: str | None = None
    comment: str | None = None
    declared_range: str | None = None
    """The rdfs:range IRI the object type came from; None when the ontology gives none."""

    @property
    def signature(self) -> str:
        """``name/arity``, as clingo and rule authors write it."""
        return f"{self.name}/{self.arity}"

    def as_json(self, prefixes: PrefixMap) -> dict[str, Any]:
        """The JSON form ``warrant schema --json`` prints."""
        return {
            "name": self.name,
            "arity": self.arity,
            "iri": self.iri,
            "compact": prefixes.compact(self.iri),
            "arg_types": list(self.arg_types),
            "kind": self.kind,
            "label": self.label,
            "comment": self.comment,
            "range": self.declared_range,
        }


@dataclass(frozen=True)
class Schema:
    """Every predicate the ontology gives, sorted by name, with lookups by name and IRI."""

    predicates: tuple[Predicate, ...]
    prefixes: PrefixMap
    _by_name: dict[str, Predicate] = field(init=False, repr=False, compare=False)
    _by_iri: dict[str, Predicate] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "predicates", tuple(sorted(self.predicates)))
        object.__setattr__(self, "_by_name", {p.name: p for p in self.predicates})
        object.__setattr__(self, "_by_iri", {p.iri: p for p in self.predicates})

    def __iter__(self) -> Iterator[Predicate]:
        return iter(self.predicates)

    def __len__(self) -> int:
        return len(self.predicates)

    def get(self, name: str, arity: int) -> Predicate | None:
        """The predicate ``name/arity``, or None (a rule-defined or misspelt predicate)."""
        pred = self._by_name.get(name)
        return pred if pred is not None and pred.arity == arity else None

    def named(self, name: str) -> Predicate | None:
        """The predicate called ``name`` whatever its arity (to report arity mismatches)."""
        return self._by_name.get(name)

    def for_iri(self, iri: str) -> Predicate | None:
        """The predicate bound to a class or property IRI."""
        return self._by_iri.get(iri)

    def signatures(self) -> frozenset[tuple[str, int]]:
        """Every ``(name, arity)`` the schema defines."""
        return frozenset((p.name, p.arity) for p in self.predicates)

    def render_text(self) -> str:
        """One aligned line per predicate: signature, compact IRI, argument types, label."""
        rows = [
            (
                p.signature,
                self.prefixes.compact(p.iri),
                "(" + ", ".join(p.arg_types) + ")",
                f'"{p.label}"' if p.label else "",
            )
            for p in self.predicates
        ]
        if not rows:
            return ""
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:3])) + "  " + r[3]
            for r in rows
        ]
        return "\n".join(line.rstrip() for line in lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        """The schema as a JSON-ready dict: version, prefixes and predicates."""
        return {
            "version": 1,
            "prefixes": dict(self.prefixes),
            "predicates": [p.as_json(self.prefixes) for p in self.predicates],
        }


def _text(graph: rdflib.Graph, node: rdflib.URIRef, props: Iterable[rdflib.URIRef]) -> str | None:
    """The best literal of the first property that has one: English, then untagged, then any."""
    for prop in props:
        values = [o for o in graph.objects(node, prop) if isinstance(o, rdflib.Literal)]
        if values:
            def rank(lit: rdflib.Literal) -> tuple[int, str]:
                lang = (lit.language or "").lower()
                return (0 if lang.startswith("en") else 1 if not lang else 2, str(lit))

            return str(min(values, key=rank))
    return None


def _builtin(iri: str) -> bool:
    return iri.startswith(_BUILTIN_NAMESPACES)


def _range_type(graph: rdflib.Graph, node: rdflib.term.Node) -> ArgType:
    """The argument type one rdfs:range value gives."""
    if isinstance(node, rdflib.URIRef):
        iri = str(node)
        if iri in _DATATYPES:
            return _DATATYPES[iri]
        if iri.startswith(str(XSD)) or node in (RDFS.Literal, RDF.langString, RDF.PlainLiteral):
            return "string"
        if (node, RDF.type, RDFS.Datatype) in graph:
            base = graph.value(node, OWL.onDatatype)
            return _range_type(graph, base) if base is not None else "string"
        return "iri"
    base = graph.value(node, OWL.onDatatype)
    if base is not None:
        return _range_type(graph, base)
    if (node, RDF.type, RDFS.Datatype) not in graph:
        return "iri"  # a class expression (owl:unionOf of classes, a restriction …)
    members = graph.value(node, OWL.unionOf)
    if members is not None:
        kinds = {_range_type(graph, m) for m in Collection(graph, members)}
        return kinds.pop() if len(kinds) == 1 else "string"
    return "string"


@dataclass
class _Problems:
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        more = f" (and {len(self.messages) - 1} more)" if len(self.messages) > 1 else ""
        raise OntologyError(self.messages[0] + more, details={"problems": list(self.messages)})


def _name_for(
    graph: rdflib.Graph, iri: rdflib.URIRef, shown: str, problems: _Problems
) -> str | None:
    overrides = sorted({str(v) for v in graph.objects(iri, WR_ASP_NAME)})
    if len(overrides) > 1:
        problems.add(f"`{shown}` has several wr:aspName values: `{'`, `'.join(overrides)}`")
        return None
    if overrides:
        name = overrides[0]
        if not IDENTIFIER.fullmatch(name):
            problems.add(
                f"wr:aspName `{name}` of `{shown}` is not an ASP predicate name "
                "(a lowercase letter, then letters, digits or `_`)"
            )
            return None
    else:
        name = snake_case(local_name(str(iri)))
        if not name:
            problems.add(f"no ASP predicate name can be derived from `{shown}`; add wr:aspName")
            return None
    if name in RESERVED_NAMES:
        how = "by its wr:aspName" if overrides else "by its local name"
        hint = snake_case(shown.partition(":")[0]) or "my"
        problems.add(
            f"`{shown}` would become `{name}` ({how}), a predicate name reserved for the "
            f'engine; rename it with wr:aspName, e.g. `{shown} wr:aspName "{hint}_{name}"`'
        )
        return None
    return name


def _classes(graph: rdflib.Graph) -> set[rdflib.URIRef]:
    found: set[rdflib.URIRef] = set()
    for cls_type in (OWL.Class, RDFS.Class):
        for node in graph.subjects(RDF.type, cls_type):
            if (
                isinstance(node, rdflib.URIRef)
                and not _builtin(str(node))
                and (node, RDF.type, RDFS.Datatype) not in graph
            ):
                found.add(node)
    return found


def _properties(graph: rdflib.Graph) -> dict[rdflib.URIRef, PredicateKind]:
    found: dict[rdflib.URIRef, PredicateKind] = {}
    annotations = set(graph.subjects(RDF.type, OWL.AnnotationProperty))
    for prop_type, kind in _PROPERTY_TYPES.items():
        for node in graph.subjects(RDF.type, prop_type):
            if not isinstance(node, rdflib.URIRef) or node in annotations:
                continue
            if _builtin(str(node)):
                continue
            old = found.get(node)
            if old is None or _KIND_RANK[kind] < _KIND_RANK[old]:
                found[node] = kind  # type: ignore[assignment]
    return found


def _object_type(
    graph: rdflib.Graph, prop: rdflib.URIRef, kind: PredicateKind, problems: _Problems
) -> tuple[ArgType, str | None]:
    ranges = sorted(graph.objects(prop, RDFS.range), key=str)
    if not ranges:
        return ("iri" if kind == "object_property" else "string"), None
    types = {_range_type(graph, r) for r in ranges}
    if len(types) > 1:
        problems.add(
            f"`{prop}` has ranges of different kinds ({', '.join(sorted(types))}); "
            "give it one range"
        )
    named = [str(r) for r in ranges if isinstance(r, rdflib.URIRef)]
    return min(types), (named[0] if named else str(ranges[0]))


def derive_schema(ontology: rdflib.Graph, *, prefixes: PrefixMap) -> Schema:
    """Every predicate of ``ontology``; OntologyError listing every naming problem at once."""
    problems = _Problems()
    classes = _classes(ontology)
    properties = _properties(ontology)
    predicates: list[Predicate] = []
    owners: dict[str, str] = {}
    label_props = (RDFS.label, SKOS.prefLabel)
    for iri in sorted(classes | set(properties), key=str):
        shown = prefixes.compact(str(iri))
        if iri in classes and iri in properties:
            problems.add(f"`{shown}` is declared both a class and a property; keep one")
            continue
        name = _name_for(ontology, iri, shown, problems)
        if name is None:
            continue
        if name in owners:
            problems.add(
                f"`{prefixes.compact(owners[name])}` and `{shown}` both become the predicate "
                f"`{name}`; give one of them another name with wr:aspName"
            )
            continue
        owners[name] = str(iri)
        label = _text(ontology, iri, label_props)
        comment = _text(ontology, iri, (RDFS.comment,))
        if iri in classes:
            predicates.append(Predicate(name, 1, str(iri), ("iri",), "class", label, comment))
            continue
        kind = properties[iri]
        obj_type, declared = _object_type(ontology, iri, kind, problems)
        predicates.append(
            Predicate(name, 2, str(iri), ("iri", obj_type), kind, label, comment, declared)
        )
    problems.raise_if_any()
    return Schema(tuple(predicates), prefixes)


def descendants(ontology: rdflib.Graph, iri: str, *, via: Literal["class", "property"]) -> (
    frozenset[str]
):
    """``iri`` and everything below it by rdfs:subClassOf / rdfs:subPropertyOf (transitively)."""
    link = RDFS.subClassOf if via == "class" else RDFS.subPropertyOf
    seen = {iri}
    todo = [rdflib.URIRef(iri)]
    while todo:
        node = todo.pop()
        for child in ontology.subjects(link, node):
            if isinstance(child, rdflib.URIRef) and str(child) not in seen:
                seen.add(str(child))
                todo.append(child)
    return frozenset(seen)
