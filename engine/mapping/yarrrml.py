"""Load a YARRRML mapping file into a :class:`MappingDocument`, rejecting what is unsupported.

The subset is specified in ``docs/yarrrml-subset.md``. The YAML is *composed* (not loaded) so
every node keeps its line and column and every :class:`~engine.errors.MappingError` names
``file:line:col`` and the offending key. Shapes of terms (prefixed names, templates, objects)
are read by :mod:`engine.mapping.terms`; this module walks the document structure.

>>> doc = parse_mapping(b'''
... prefixes: {ex: "https://example.org/"}
... mappings:
...   person:
...     sources: [[people.csv~csv]]
...     s: ex:person/$(id)
...     po: [[a, ex:Person], [ex:name, $(name)]]
... ''', file="people.yaml")
>>> doc.mappings[0].subject.text
'https://example.org/person/$(id)'
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from connectors.base import LogicalSource, ReferenceFormulation
from engine.errors import Location, MappingError
from engine.mapping.document import (
    JoinCondition,
    MappingDocument,
    ObjectMap,
    PredicateObjectMap,
    RefObjectMap,
    TriplesMap,
)
from engine.mapping.terms import BUILTIN_PREFIXES, TermReader, is_null

__all__ = ["load_mapping", "parse_mapping"]

_TOP_KEYS: Final = {
    "prefixes": "prefixes",
    "mappings": "mappings",
    "mapping": "mappings",
    "m": "mappings",
    "authors": "authors",
}
_MAPPING_KEYS: Final = {
    "sources": "sources",
    "source": "sources",
    "s": "s",
    "subject": "s",
    "subjects": "s",
    "po": "po",
    "predicateobjects": "po",
}
_SOURCE_KEYS: Final = ("access", "referenceFormulation", "iterator", "table", "query")
_SHORT_FORMULATIONS: Final[dict[str, ReferenceFormulation]] = {"csv": "csv", "jsonpath": "jsonpath"}
_QUERY_FORMULATIONS: Final[dict[str, ReferenceFormulation]] = {
    "csv": "sql",
    "sql": "sql",
    "cypher": "cypher",
    "sparql": "sparql",
}


def _display_name(path: Path, base_dir: Path | None) -> str:
    if base_dir is not None:
        try:
            return path.resolve().relative_to(base_dir.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def load_mapping(path: Path, *, base_dir: Path | None = None) -> MappingDocument:
    """Read, parse and validate a YARRRML file; ``base_dir`` shortens its name in errors."""
    file = _display_name(path, base_dir)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(
            f"cannot read mapping file: {exc.strerror or exc}", location=Location(file=file)
        ) from exc
    return parse_mapping(data, file=file, path=path)


def parse_mapping(data: bytes | str, *, file: str, path: Path | None = None) -> MappingDocument:
    """Parse and validate YARRRML text; ``file`` names it in error locations."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"mapping file is not utf-8 (byte {exc.start})", location=Location(file=file)
        ) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
        problem = exc.problem or exc.context or "invalid yaml"
        if exc.context and problem.startswith("but "):
            problem = f"{exc.context}, {problem}"
        problem = " ".join(problem.split())
        raise MappingError(f"malformed yaml: {problem}", location=where) from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"malformed yaml: {exc}", location=Location(file=file)) from exc
    if root is None or is_null(root):
        raise MappingError("mapping file is empty", location=Location(file=file, line=1))
    prefixes, mappings = _DocumentReader(file).read(root)
    return MappingDocument(
        path=path if path is not None else Path(file),
        file=file,
        version=hashlib.sha256(raw).hexdigest()[:16],
        prefixes=tuple(prefixes.items()),
        mappings=tuple(mappings),
    )


class _DocumentReader(TermReader):
    """Walks the composed YAML: top level, mappings, sources, predicate-object lists."""

    def read(self, root: Node) -> tuple[dict[str, str], list[TriplesMap]]:
        entries = self.entries(root, "the mapping file", _TOP_KEYS, context="at the top level")
        if "prefixes" in entries:
            self.read_prefixes(entries["prefixes"][1])
        if "mappings" not in entries:
            self.fail("mapping file has no `mappings`", root)
        mappings_node = entries["mappings"][1]
        if not isinstance(mappings_node, MappingNode) or not mappings_node.value:
            self.fail("`mappings` must be a non-empty map of mapping names", mappings_node)
        mappings = [
            self.mapping(self.key_text(key), key, value)
            for key, value in self.unique_items(mappings_node)
        ]
        self.check_joins(mappings)
        return self.prefixes, mappings

    def read_prefixes(self, node: Node) -> None:
        if is_null(node):
            return
        if not isinstance(node, MappingNode):
            self.fail("`prefixes` must be a map of prefix names to IRIs", node)
        prefixes = dict(BUILTIN_PREFIXES)
        for key, value in self.unique_items(node):
            name = self.key_text(key)
            iri = self.text(value, f"prefix `{name}`")
            self.check_absolute(iri, value)
            prefixes[name] = iri
        self.prefixes = prefixes

    def mapping(self, name: str, key: Node, node: Node) -> TriplesMap:
        where = f"in mapping `{name}`"
        entries = self.entries(node, f"mapping `{name}`", _MAPPING_KEYS, context=where)
        if "sources" not in entries:
            self.fail(f"mapping `{name}` has no `sources`", key)
        if "s" not in entries:
            self.fail(
                f"mapping `{name}` has no subject `s`; blank-node subjects are not supported", key
            )
        source = self.source(entries["sources"][1], name)
        subject = self.subject(entries["s"][1], name)
        po: tuple[PredicateObjectMap, ...] = ()
        if "po" in entries and not is_null(entries["po"][1]):
            po_node = entries["po"][1]
            if not isinstance(po_node, SequenceNode):
                self.fail(f"`po` of mapping `{name}` must be a list", po_node)
            po = tuple(self.predicate_object(item, name) for item in po_node.value)
        return TriplesMap(name, source, subject, po, self.loc(key))

    # --- sources -----------------------------------------------------------------------

    def source(self, node: Node, mapping: str) -> LogicalSource:
        if isinstance(node, MappingNode):
            return self.long_source(node, mapping)
        if isinstance(node, SequenceNode):
            items = node.value
            if items and all(isinstance(i, ScalarNode) for i in items):
                return self.short_source(node, mapping)
            if len(items) != 1:
                self.fail(
                    f"mapping `{mapping}` has {len(items)} sources; "
                    "warrant supports exactly one source per mapping",
                    items[1] if len(items) > 1 else node,
                )
            item = items[0]
            if isinstance(item, SequenceNode):
                return self.short_source(item, mapping)
            if isinstance(item, MappingNode):
                return self.long_source(item, mapping)
        self.fail(
            f"source of mapping `{mapping}` must be `[path~csv]`, `[path~jsonpath, iterator]` "
            "or a map with `access`, `table` or `query`; named sources are not supported",
            node,
        )

    def short_source(self, node: SequenceNode, mapping: str) -> LogicalSource:
        items = [self.text(i, f"source of mapping `{mapping}`") for i in node.value]
        if len(items) > 2:
            self.fail(
                f"source of mapping `{mapping}` has more than `[path~format, iterator]`", node
            )
        access, sep, formulation = items[0].rpartition("~")
        if not sep or formulation not in _SHORT_FORMULATIONS:
            self.fail(
                f"source `{items[0]}` of mapping `{mapping}` must end in `~csv` or `~jsonpath`",
                node.value[0],
            )
        return self.file_source(
            access, _SHORT_FORMULATIONS[formulation], items[1] if len(items) == 2 else None, node
        )

    def long_source(self, node: MappingNode, mapping: str) -> LogicalSource:
        keys = {k: k for k in _SOURCE_KEYS}
        entries = self.entries(
            node,
            f"source of mapping `{mapping}`",
            keys,
            context=f"in the source of mapping `{mapping}`",
        )
        values = {k: self.text(v, f"`{k}`") for k, (_, v) in entries.items()}
        formulation = values.get("referenceFormulation")
        if ("table" in values) + ("query" in values) + ("access" in values) != 1:
            self.fail(
                f"source of mapping `{mapping}` needs one of `access`, `table`, `query`", node
            )
        if "access" not in values:
            if "iterator" in values:
                self.fail(
                    f"a `table` or `query` source takes no `iterator` ({mapping})",
                    entries["iterator"][0],
                )
            chosen = _QUERY_FORMULATIONS.get(formulation or "sql")
            if chosen is None:
                self.fail(
                    f"unknown reference formulation `{formulation}` for a query source; "
                    "expected `sql`, `csv`, `cypher` or `sparql`",
                    entries["referenceFormulation"][1],
                )
            return LogicalSource(chosen, table=values.get("table"), query=values.get("query"))
        access = values["access"]
        if formulation is None:
            access, _, formulation = access.rpartition("~")
        short = _SHORT_FORMULATIONS.get(formulation)
        if short is None:
            self.fail(
                f"unknown reference formulation `{formulation}` for file `{access}`; "
                "expected `csv` or `jsonpath`",
                node,
            )
        return self.file_source(access, short, values.get("iterator"), node)

    def file_source(
        self, access: str, formulation: ReferenceFormulation, iterator: str | None, node: Node
    ) -> LogicalSource:
        if not access:
            self.fail("source has an empty path", node)
        if iterator is not None and formulation != "jsonpath":
            self.fail(f"an `iterator` needs a `jsonpath` source, not `{formulation}`", node)
        if iterator is not None and not iterator.startswith("$"):
            self.fail(f"iterator `{iterator}` must be a jsonpath starting with `$`", node)
        return LogicalSource(formulation, path=access, iterator=iterator)

    # --- predicate-object lists --------------------------------------------------------

    def predicate_object(self, node: Node, mapping: str) -> PredicateObjectMap:
        if isinstance(node, SequenceNode):
            items = node.value
            if len(items) not in (2, 3):
                self.fail(
                    "a `po` entry must be `[predicate, object]` or "
                    "`[predicate, object, datatype or language~lang]`",
                    node,
                )
            predicates = self.predicates(items[0])
            qualifier = items[2] if len(items) == 3 else None
            objects = tuple(
                self.short_object(o, qualifier, self.is_type(predicates))
                for o in self.as_list(items[1])
            )
            return PredicateObjectMap(predicates, objects, self.loc(node))
        if isinstance(node, MappingNode):
            keys = {
                "p": "p",
                "predicates": "p",
                "predicate": "p",
                "o": "o",
                "objects": "o",
                "object": "o",
            }
            entries = self.entries(node, "a `po` entry", keys, context=f"in mapping `{mapping}`")
            if "p" not in entries or "o" not in entries:
                self.fail("a `po` entry needs both `p` and `o`", node)
            predicates = self.predicates(entries["p"][1])
            obj_list: list[ObjectMap | RefObjectMap] = []
            for o in self.as_list(entries["o"][1]):
                if isinstance(o, MappingNode):
                    obj_list.append(self.long_object(o, mapping, self.is_type(predicates)))
                else:
                    obj_list.append(self.short_object(o, None, self.is_type(predicates)))
            return PredicateObjectMap(predicates, tuple(obj_list), self.loc(node))
        self.fail(
            "a `po` entry must be a list `[predicate, object]` or a map with `p` and `o`", node
        )

    def long_object(
        self, node: MappingNode, mapping: str, is_type: bool
    ) -> ObjectMap | RefObjectMap:
        keys = {k: k for k in ("value", "type", "datatype", "language", "mapping", "condition")}
        entries = self.entries(node, "an object", keys, context=f"in mapping `{mapping}`")
        if "mapping" in entries:
            extra = sorted(set(entries) - {"mapping", "condition"})
            if extra:
                self.fail(
                    f"an object with `mapping` takes only `condition`, not `{extra[0]}`",
                    entries[extra[0]][0],
                )
            parent = self.text(entries["mapping"][1], "`mapping`")
            conditions: tuple[JoinCondition, ...] = ()
            if "condition" in entries:
                conditions = self.conditions(entries["condition"][1])
            return RefObjectMap(parent, conditions, self.loc(entries["mapping"][1]))
        if "condition" in entries:
            self.fail("`condition` needs a `mapping` to join with", entries["condition"][0])
        if "value" not in entries:
            self.fail("an object needs a `value` or a `mapping`", node)
        return self.object_entry(entries, is_type)

    def conditions(self, node: Node) -> tuple[JoinCondition, ...]:
        out: list[JoinCondition] = []
        for item in self.as_list(node):
            keys = {
                "function": "function",
                "fn": "function",
                "parameters": "parameters",
                "pms": "parameters",
            }
            entries = self.entries(item, "a join condition", keys, context="in a join condition")
            if "function" not in entries or "parameters" not in entries:
                self.fail("a join condition needs `function: equal` and `parameters`", item)
            function = self.text(entries["function"][1], "`function`")
            if function not in ("equal", "idlab-fn:equal", "grel:valueEquals"):
                self.fail(
                    f"unsupported function `{function}` in a join condition; "
                    "only `equal` is supported",
                    entries["function"][1],
                )
            params = entries["parameters"][1]
            found: dict[str, Node] = {}
            for p in self.as_list(params):
                if not isinstance(p, SequenceNode) or len(p.value) != 2:
                    self.fail(
                        "a join parameter must be `[str1, $(child)]` or `[str2, $(parent)]`", p
                    )
                pname = self.text(p.value[0], "a join parameter name")
                if pname not in ("str1", "str2") or pname in found:
                    self.fail(
                        f"join parameters must be `str1` and `str2`, once each, not `{pname}`",
                        p.value[0],
                    )
                found[pname] = p.value[1]
            if len(found) != 2:
                self.fail("a join condition needs both `str1` and `str2`", params)
            out.append(
                JoinCondition(
                    self.literal_template(found["str1"]), self.literal_template(found["str2"])
                )
            )
        return tuple(out)

    def check_joins(self, mappings: list[TriplesMap]) -> None:
        by_name = {m.name: m for m in mappings}
        for m in mappings:
            for po in m.predicate_objects:
                for o in po.objects:
                    if not isinstance(o, RefObjectMap):
                        continue
                    parent = by_name.get(o.parent)
                    if parent is None:
                        raise MappingError(
                            f"unknown mapping `{o.parent}` in mapping `{m.name}`",
                            location=o.location,
                        )
                    if not o.conditions and parent.source != m.source:
                        raise MappingError(
                            f"mapping `{m.name}` refers to mapping `{o.parent}` without a "
                            "`condition`, so both must read the same source",
                            location=o.location,
                        )
