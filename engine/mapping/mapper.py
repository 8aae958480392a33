"""Apply a loaded mapping to records: each source record becomes one :class:`MappedRecord`.

A record is the unit of provenance and of quarantine, so all the triples one record produces,
from every mapping that reads its logical source, travel together. Logical sources are read in
order of first use; each is fetched once. Sources that are the parent of a join are kept in
memory (the join needs their records indexed); every other source is streamed.

>>> from connectors.base import Record, RecordLocator
>>> from engine.mapping.yarrrml import parse_mapping
>>> doc = parse_mapping(b'''
... prefixes: {ex: "https://example.org/"}
... mappings:
...   person:
...     sources: [[people.csv~csv]]
...     s: ex:person/$(id)
...     po: [[ex:name, $(name)]]
... ''', file="people.yaml")
>>> rows = [Record(RecordLocator("hr", "people.csv", row=1), {"id": "7", "name": "Ada"})]
>>> [str(t) for m in map_records(doc, lambda s: rows, source_name="hr") for t in m.triples]
['<https://example.org/person/7> <https://example.org/name> "Ada"']
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from connectors.base import LogicalSource, Record
from engine.errors import Location, MappingError
from engine.mapping.document import (
    TABULAR_FORMULATIONS,
    JoinCondition,
    MappingDocument,
    ObjectMap,
    RefObjectMap,
    TermType,
    TriplesMap,
)
from engine.mapping.model import MappedRecord
from engine.mapping.template import BadValue, MissingField, Template
from engine.mapping.terms import reason

__all__ = ["Fetch", "map_records"]

Fetch = Callable[[LogicalSource], Iterable[Record]]
"""Reads the records of one logical source (a connector's ``records`` method fits)."""

_Values = Mapping[str, object]
_Object = ox.NamedNode | ox.Literal
_TermMaker = Callable[[_Values], Sequence[_Object]]
_SubjectMaker = Callable[[_Values], Sequence[ox.NamedNode]]
_JoinKey = tuple[str, ...]
_Renderer = Callable[[_Values], list[str]]


class _BadIri(Exception):
    """A template produced a string that is not an absolute IRI."""

    def __init__(self, template: Template, value: str, reason: str) -> None:
        super().__init__(reason)
        self.template = template
        self.value = value
        self.reason = reason


def _named(value: str, template: Template) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise _BadIri(template, value, reason(exc)) from exc


def _iri_maker(template: Template, strict: bool) -> _SubjectMaker:
    render = template.renderer(iri=True, strict=strict)

    def make(values: _Values) -> list[ox.NamedNode]:
        return [_named(v, template) for v in render(values)]

    return make


def _constant_maker(term: _Object) -> _TermMaker:
    terms = [term]

    def constant(_values: _Values) -> list[_Object]:
        return terms

    return constant


def _literal_maker(om: ObjectMap, strict: bool) -> _TermMaker:
    render = om.template.renderer(iri=False, strict=strict)
    datatype, language = om.datatype, om.language
    if language is not None:
        lang = language

        def tagged(values: _Values) -> list[_Object]:
            return [ox.Literal(v, language=lang) for v in render(values)]

        return tagged
    if datatype is not None:
        dtype = datatype

        def typed(values: _Values) -> list[_Object]:
            return [ox.Literal(v, datatype=dtype) for v in render(values)]

        return typed

    def plain(values: _Values) -> list[_Object]:
        return [ox.Literal(v) for v in render(values)]

    return plain


def _join_keys(renderers: Sequence[_Renderer], values: _Values) -> list[_JoinKey]:
    """Every combination of the values the join templates read from one record."""
    if len(renderers) == 1:
        return [(v,) for v in renderers[0](values)]
    return list(itertools.product(*(r(values) for r in renderers)))


@dataclass(frozen=True)
class _Plan:
    """One mapping made ready to run: its subject and term makers, built once."""

    mapping: TriplesMap
    subject: _SubjectMaker
    pos: tuple[tuple[tuple[ox.NamedNode, ...], tuple[_TermMaker, ...]], ...]


class _Run:
    """One application of a document: fetch cache, join indexes, compiled plans."""

    def __init__(self, doc: MappingDocument, fetch: Fetch, source_name: str) -> None:
        self.doc = doc
        self.fetch = fetch
        self.source_name = source_name
        self.cache: dict[LogicalSource, list[Record]] = {}
        self.indexes: dict[
            tuple[str, tuple[JoinCondition, ...]], dict[_JoinKey, list[ox.NamedNode]]
        ] = {}
        self.by_name = {m.name: m for m in doc.mappings}
        self.kept = {
            self.by_name[o.parent].source
            for m in doc.mappings
            for po in m.predicate_objects
            for o in po.objects
            if isinstance(o, RefObjectMap) and o.conditions
        }
        self.subjects: dict[str, _SubjectMaker] = {
            m.name: _iri_maker(m.subject, self.strict(m.source)) for m in doc.mappings
        }
        self.plans = {m.name: self.plan(m) for m in doc.mappings}

    @staticmethod
    def strict(source: LogicalSource) -> bool:
        return source.reference_formulation in TABULAR_FORMULATIONS

    def plan(self, m: TriplesMap) -> _Plan:
        strict = self.strict(m.source)
        pos = []
        for po in m.predicate_objects:
            makers: list[_TermMaker] = []
            for o in po.objects:
                if isinstance(o, RefObjectMap):
                    makers.append(self.join_maker(o, strict))
                elif o.constant is not None:
                    makers.append(_constant_maker(o.constant))
                elif o.term_type is TermType.IRI:
                    makers.append(_iri_maker(o.template, strict))
                else:
                    makers.append(_literal_maker(o, strict))
            pos.append((po.predicates, tuple(makers)))
        return _Plan(m, self.subjects[m.name], tuple(pos))

    def join_maker(self, ref: RefObjectMap, strict: bool) -> _TermMaker:
        if not ref.conditions:
            return self.subjects[ref.parent]
        children = tuple(c.child.renderer(iri=False, strict=strict) for c in ref.conditions)
        key = (ref.parent, ref.conditions)

        def joined(values: _Values) -> list[_Object]:
            index = self.indexes.get(key)
            if index is None:
                index = self.build_index(ref)
            found: list[_Object] = []
            for k in _join_keys(children, values):
                found.extend(index.get(k, ()))
            return found if len(found) < 2 else list(dict.fromkeys(found))

        return joined

    def build_index(self, ref: RefObjectMap) -> dict[_JoinKey, list[ox.NamedNode]]:
        parent = self.by_name[ref.parent]
        strict = self.strict(parent.source)
        subject = self.subjects[parent.name]
        parents = tuple(c.parent.renderer(iri=False, strict=strict) for c in ref.conditions)
        buckets: dict[_JoinKey, dict[ox.NamedNode, None]] = {}
        for record in self.records_of(parent.source):
            try:
                nodes = subject(record.values)
                keys = _join_keys(parents, record.values) if nodes else []
            except (MissingField, BadValue, _BadIri) as exc:
                raise self.located(exc, record) from exc
            for k in keys:
                buckets.setdefault(k, {}).update(dict.fromkeys(nodes))
        index = {k: list(nodes) for k, nodes in buckets.items()}
        self.indexes[(ref.parent, ref.conditions)] = index
        return index

    def records_of(self, source: LogicalSource) -> Iterable[Record]:
        if source not in self.kept:
            return self.fetch(source)
        cached = self.cache.get(source)
        if cached is None:
            cached = self.cache[source] = list(self.fetch(source))
        return cached

    def run(self) -> Iterator[MappedRecord]:
        groups: dict[LogicalSource, list[_Plan]] = {}
        for m in self.doc.mappings:
            groups.setdefault(m.source, []).append(self.plans[m.name])
        for source, plans in groups.items():
            for record in self.records_of(source):
                triples: list[ox.Triple] = []
                values = record.values
                try:
                    for plan in plans:
                        _apply(plan, values, triples)
                except (MissingField, BadValue, _BadIri) as exc:
                    raise self.located(exc, record) from exc
                unique = tuple(dict.fromkeys(triples)) if len(triples) > 1 else tuple(triples)
                yield MappedRecord(record.locator, unique)

    def located(self, exc: MissingField | BadValue | _BadIri, record: Record) -> MappingError:
        details = {"source": self.source_name}
        if isinstance(exc, _BadIri):
            t = exc.template
            field = t.references[0].name if t.references else None
            return MappingError(
                f"template `{t.text}` gives `{exc.value}`, which is not a valid iri ({exc.reason})",
                location=Location(
                    file=self.doc.file,
                    line=t.line,
                    column=t.column,
                    record=str(record.locator),
                    field=field,
                ),
                details=details,
            )
        ref = exc.reference
        where = Location(
            file=self.doc.file,
            line=ref.line,
            column=ref.column,
            record=str(record.locator),
            field=ref.name,
        )
        if isinstance(exc, BadValue):
            return MappingError(exc.reason, location=where, details=details)
        fields = list(record.values)
        shown = ", ".join(f"`{f}`" for f in fields[:12]) + (", …" if len(fields) > 12 else "")
        return MappingError(
            f"the record has no field `{ref.name}`; its fields are {shown or 'none'}",
            location=where,
            details=details,
        )


def _apply(plan: _Plan, values: _Values, out: list[ox.Triple]) -> None:
    """Append the triples one mapping makes from one record."""
    subjects = plan.subject(values)
    if not subjects:
        return
    triple = ox.Triple
    for predicates, makers in plan.pos:
        if len(makers) == 1:
            objects = makers[0](values)
        else:
            objects = [o for make in makers for o in make(values)]
        if not objects:
            continue
        if len(subjects) == 1 and len(predicates) == 1:
            s, p = subjects[0], predicates[0]
            out.extend([triple(s, p, o) for o in objects])
        else:
            out.extend([triple(s, p, o) for s in subjects for p in predicates for o in objects])


def map_records(doc: MappingDocument, fetch: Fetch, *, source_name: str) -> Iterator[MappedRecord]:
    """Map every record of every logical source in ``doc``: one :class:`MappedRecord` each.

    Records come in order of their logical source's first use, then in the order ``fetch``
    yields them; a record's triples follow the mappings' file order, without duplicates.
    A record that yields no triple still gives a (empty) ``MappedRecord`` so it is counted.
    Raises :class:`MappingError` naming the mapping line, record and field when a tabular
    record lacks a referenced column, a value cannot be a term, or an IRI is invalid.
    """
    return _Run(doc, fetch, source_name).run()
