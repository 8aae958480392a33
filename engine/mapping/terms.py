"""Reading YARRRML terms from composed YAML nodes: prefixed names, templates, objects.

Each helper turns one node into a checked value or raises a located
:class:`~engine.errors.MappingError`. Prefixed names are expanded and IRIs checked here, once,
so the mapper never meets an unknown prefix or a malformed constant IRI.
"""

from __future__ import annotations

from typing import Final, NoReturn

import pyoxigraph as ox
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import Location, MappingError
from engine.mapping.document import ObjectMap, TermType
from engine.mapping.template import Template, compile_template

BUILTIN_PREFIXES: Final = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
}
"""Prefixes every mapping file may use without declaring them."""

RDF_TYPE: Final = ox.NamedNode(BUILTIN_PREFIXES["rdf"] + "type")
_LANG_STRING: Final = ox.NamedNode(BUILTIN_PREFIXES["rdf"] + "langString")
# IRI schemes written without `//` that are read as full IRIs, not as undeclared prefixes.
_OPAQUE_SCHEMES: Final = frozenset({"urn", "mailto", "tag", "tel", "did", "data"})
_NULL_TAG: Final = "tag:yaml.org,2002:null"

_GRAPHS: Final = "warrant puts each source in its own named graph"
_TARGETS: Final = "warrant writes each source to its own graph in the store"
_FUNCTIONS: Final = "functions other than the join `equal` are not supported"
HINTS: Final = {
    "graphs": _GRAPHS,
    "graph": _GRAPHS,
    "g": _GRAPHS,
    "targets": _TARGETS,
    "target": _TARGETS,
    "t": _TARGETS,
    "function": _FUNCTIONS,
    "fn": _FUNCTIONS,
    "f": _FUNCTIONS,
    "functions": _FUNCTIONS,
    "parameters": _FUNCTIONS,
    "pms": _FUNCTIONS,
    "condition": "conditions are only supported on a `mapping:` object (a join)",
    "conditions": "conditions are only supported on a `mapping:` object (a join)",
    "base": "write full IRIs or declare a prefix",
    "sources": "declare the source inside each mapping",
    "external": "external references are not supported",
}
"""Why a known YARRRML key is rejected, keyed by the key."""


def is_null(node: Node) -> bool:
    """True for an empty value or an explicit YAML null (`~`, `null`)."""
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def reason(exc: Exception) -> str:
    """An exception's message as a lowercase clause, to quote inside a located message."""
    text = " ".join(str(exc).split())
    return text[:1].lower() + text[1:]


def split_suffix(text: str) -> tuple[str, str | None]:
    """Split a YARRRML `~iri` / `~lang` / `~blank` suffix off a value."""
    for suffix in ("iri", "lang", "blank", "literal"):
        if text.endswith("~" + suffix):
            return text[: -len(suffix) - 1], suffix
    return text, None


class TermReader:
    """Node-level readers shared by the document walker; holds the file name and prefixes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.prefixes: dict[str, str] = dict(BUILTIN_PREFIXES)

    # --- locations and structure -------------------------------------------------------

    def loc(self, node: Node) -> Location:
        """Where ``node`` starts, 1-based."""
        mark = node.start_mark
        return Location(file=self.file, line=mark.line + 1, column=mark.column + 1)

    def fail(self, message: str, node: Node) -> NoReturn:
        """Raise a :class:`MappingError` located at ``node``."""
        raise MappingError(message, location=self.loc(node))

    def key_text(self, key: Node) -> str:
        """A map key, which must be a plain string."""
        if not isinstance(key, ScalarNode) or is_null(key):
            self.fail("map keys must be strings", key)
        return str(key.value)

    def unique_items(self, node: MappingNode) -> list[tuple[Node, Node]]:
        """The key/value pairs of a map, rejecting a repeated key."""
        seen: set[str] = set()
        for key, _ in node.value:
            name = self.key_text(key)
            if name in seen:
                self.fail(f"duplicate key `{name}`", key)
            seen.add(name)
        return list(node.value)

    def entries(
        self, node: Node, what: str, keys: dict[str, str], *, context: str
    ) -> dict[str, tuple[Node, Node]]:
        """A map's entries under their canonical names; unknown and unsupported keys rejected.

        ``keys`` maps every accepted spelling (``s``, ``subject``) to its canonical name.
        """
        if not isinstance(node, MappingNode):
            self.fail(f"{what} must be a map", node)
        out: dict[str, tuple[Node, Node]] = {}
        spelled: dict[str, str] = {}
        for key, value in self.unique_items(node):
            name = self.key_text(key)
            canon = keys.get(name)
            if canon is None:
                hint = HINTS.get(name)
                if hint is not None:
                    self.fail(f"unsupported YARRRML key `{name}` {context}; {hint}", key)
                expected = ", ".join(f"`{k}`" for k in dict.fromkeys(keys))
                self.fail(f"unknown key `{name}` {context}; expected one of {expected}", key)
            if canon in out:
                self.fail(f"`{name}` repeats `{spelled[canon]}` {context}", key)
            out[canon] = (key, value)
            spelled[canon] = name
        return out

    def text(self, node: Node, what: str) -> str:
        """A scalar's text; anything else (null, list, map) is an error naming ``what``."""
        if not isinstance(node, ScalarNode) or is_null(node):
            self.fail(f"{what} must be a string", node)
        return str(node.value)

    @staticmethod
    def as_list(node: Node) -> list[Node]:
        """A sequence's items, or the node alone."""
        return list(node.value) if isinstance(node, SequenceNode) else [node]

    # --- IRIs ----------------------------------------------------------------------------

    def check_absolute(self, iri: str, node: Node) -> None:
        """Reject a string that is not an absolute IRI."""
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            self.fail(f"`{iri}` is not an absolute IRI ({reason(exc)})", node)

    def expand(self, text: str, node: Node) -> str:
        """Expand the prefix of ``prefix:local``; a full IRI (``scheme://…``) is kept."""
        prefix, sep, local = text.partition(":")
        if not sep:
            self.fail(f"`{text}` is not an IRI or a prefixed name", node)
        if prefix in self.prefixes:
            return self.prefixes[prefix] + local
        if local.startswith("//") or prefix.lower() in _OPAQUE_SCHEMES:
            return text
        self.fail(f"unknown prefix `{prefix}` in `{text}`", node)

    def constant_iri(self, text: str, node: Node, what: str) -> ox.NamedNode:
        """A constant IRI (predicate, class, datatype) as a term."""
        if "$(" in text:
            self.fail(f"{what} `{text}` must be a constant IRI, not a template", node)
        full = self.expand(text, node)
        try:
            return ox.NamedNode(full)
        except ValueError as exc:
            self.fail(f"{what} `{text}` is not a valid IRI ({reason(exc)})", node)

    def iri_template(self, text: str, node: Node) -> Template:
        """An IRI template: prefix expanded in its constant head, its shape checked."""
        head = text.split("$(", 1)[0]
        expanded = self.expand(text, node) if head else text
        mark = node.start_mark
        template = compile_template(
            expanded, line=mark.line + 1, column=mark.column + 1, file=self.file
        )
        if head:
            try:
                ox.NamedNode(template.sample())
            except ValueError as exc:
                self.fail(f"`{text}` is not a valid IRI template ({reason(exc)})", node)
        return template

    def literal_template(self, node: Node) -> Template:
        """A template read as written (no prefix expansion), for literals and join keys."""
        mark = node.start_mark
        return compile_template(
            self.text(node, "a value"), line=mark.line + 1, column=mark.column + 1, file=self.file
        )

    # --- subjects, predicates, objects -------------------------------------------------

    def subject(self, node: Node, mapping: str) -> Template:
        """The subject template of a mapping: exactly one IRI template."""
        if isinstance(node, SequenceNode):
            if len(node.value) != 1:
                self.fail(f"mapping `{mapping}` must have exactly one subject", node)
            node = node.value[0]
        if isinstance(node, MappingNode):
            self.fail(f"subject of mapping `{mapping}` must be a template string", node)
        if is_null(node):
            self.fail(
                f"mapping `{mapping}` has an empty subject; blank-node subjects are not supported",
                node,
            )
        text, suffix = split_suffix(self.text(node, "a subject"))
        if suffix == "blank" or text.startswith("_:"):
            self.fail(f"blank-node subjects are not supported (mapping `{mapping}`)", node)
        if suffix not in (None, "iri"):
            self.fail(f"a subject cannot be `~{suffix}` (mapping `{mapping}`)", node)
        return self.iri_template(text, node)

    def predicates(self, node: Node) -> tuple[ox.NamedNode, ...]:
        """One or more constant predicates; ``a`` is ``rdf:type``."""
        out: list[ox.NamedNode] = []
        for item in self.as_list(node):
            text, suffix = split_suffix(self.text(item, "a predicate"))
            if suffix not in (None, "iri"):
                self.fail(f"a predicate cannot be `~{suffix}`", item)
            out.append(RDF_TYPE if text == "a" else self.constant_iri(text, item, "predicate"))
        if not out:
            self.fail("a `po` entry needs at least one predicate", node)
        return tuple(out)

    @staticmethod
    def is_type(predicates: tuple[ox.NamedNode, ...]) -> bool:
        """True when every predicate is ``rdf:type``, whose objects are IRIs by default."""
        return all(p == RDF_TYPE for p in predicates)

    def short_object(self, node: Node, qualifier: Node | None, is_type: bool) -> ObjectMap:
        """An object from `[p, o]` / `[p, o, datatype]` / `[p, o, lang~lang]` / `o: value`."""
        if isinstance(node, MappingNode | SequenceNode):
            self.fail("an object here must be a string; use `p:`/`o:` for long forms", node)
        text, suffix = split_suffix(self.text(node, "an object"))
        if suffix in ("blank", "lang"):
            self.fail(f"an object cannot be `~{suffix}`", node)
        iri = suffix == "iri" or (is_type and suffix is None)
        datatype: ox.NamedNode | None = None
        language: str | None = None
        if qualifier is not None:
            qtext, qsuffix = split_suffix(self.text(qualifier, "a datatype or language"))
            if iri:
                self.fail("an IRI object takes no datatype or language", qualifier)
            if qsuffix == "lang":
                language = qtext
            elif qsuffix is None:
                datatype = self.constant_iri(qtext, qualifier, "datatype")
            else:
                self.fail(f"`~{qsuffix}` is not a datatype or a language", qualifier)
        return self.object_map(
            text, node, iri=iri, datatype=datatype, language=language, qualifier=qualifier
        )

    def object_entry(self, entries: dict[str, tuple[Node, Node]], is_type: bool) -> ObjectMap:
        """An object from a `{value, type, datatype, language}` map."""
        value_node = entries["value"][1]
        text, suffix = split_suffix(self.text(value_node, "`value`"))
        kind = self.text(entries["type"][1], "`type`") if "type" in entries else None
        if kind == "blank" or suffix == "blank":
            self.fail("blank-node objects are not supported", value_node)
        if kind not in (None, "iri", "literal"):
            self.fail(
                f"unknown object `type` `{kind}`; expected `iri` or `literal`", entries["type"][1]
            )
        iri = kind == "iri" or suffix == "iri" or (is_type and kind is None and suffix is None)
        datatype = language = None
        qualifier: Node | None = None
        if "datatype" in entries:
            qualifier = entries["datatype"][1]
            datatype = self.constant_iri(self.text(qualifier, "`datatype`"), qualifier, "datatype")
        if "language" in entries:
            if qualifier is not None:
                self.fail(
                    "an object takes a `datatype` or a `language`, not both",
                    entries["language"][0],
                )
            qualifier = entries["language"][1]
            language = split_suffix(self.text(qualifier, "`language`"))[0]
        if iri and qualifier is not None:
            self.fail("an IRI object takes no datatype or language", qualifier)
        return self.object_map(
            text, value_node, iri=iri, datatype=datatype, language=language, qualifier=qualifier
        )

    def object_map(
        self,
        text: str,
        node: Node,
        *,
        iri: bool,
        datatype: ox.NamedNode | None,
        language: str | None,
        qualifier: Node | None,
    ) -> ObjectMap:
        """Build the object map and, for a constant, its term."""
        if iri:
            template = self.iri_template(text, node)
            constant: ox.NamedNode | ox.Literal | None = None
            if template.is_constant:
                constant = ox.NamedNode(template.sample())
            return ObjectMap(template, TermType.IRI, constant=constant)
        mark = node.start_mark
        template = compile_template(
            text, line=mark.line + 1, column=mark.column + 1, file=self.file
        )
        if language is not None:
            if qualifier is None or "$(" in language:
                self.fail(f"language `{language}` must be a constant tag", qualifier or node)
            try:
                language = ox.Literal("", language=language).language
            except ValueError as exc:
                self.fail(f"`{language}` is not a valid language tag ({reason(exc)})", qualifier)
        if datatype == _LANG_STRING:
            self.fail(
                "use a language (`en~lang`) rather than the datatype `rdf:langString`",
                qualifier or node,
            )
        literal: ox.Literal | None = None
        if template.is_constant:
            literal = ox.Literal(text, datatype=datatype, language=language)
        return ObjectMap(
            template, TermType.LITERAL, datatype=datatype, language=language, constant=literal
        )
