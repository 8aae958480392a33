"""Prefix maps: how IRIs are written in ASP (``acme:vendor/V001``) and read back.

Rules compare IRIs as strings, so one IRI must always get the same compact form: the
namespace that matches the longest part of the IRI wins, and among prefixes bound to the
same namespace the alphabetically first one. An IRI no namespace matches is written in full
(``urn:x:y``). The one ambiguous case — a full IRI whose scheme is also a declared prefix
(``wr:x`` when ``wr`` is bound, but the IRI is literally ``wr:x``) — is written in angle
brackets (``<wr:x>``) so that :meth:`PrefixMap.expand` always gives back the same IRI.

>>> pm = PrefixMap({"acme": "https://id.acme.example/"})
>>> pm.compact("https://id.acme.example/vendor/V001")
'acme:vendor/V001'
>>> pm.expand("acme:vendor/V001")
'https://id.acme.example/vendor/V001'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

import rdflib

from engine.errors import OntologyError

STANDARD_PREFIXES: Final[Mapping[str, str]] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "dpv": "https://w3id.org/dpv#",
    "dct": "http://purl.org/dc/terms/",
    "wr": "https://w3id.org/warrant/core#",
    "vr": "https://w3id.org/warrant/vendor-risk#",
}
"""Prefixes every workspace gets: W3C vocabularies and Warrant's own ontology modules."""

_PREFIX_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True)
class PrefixMap:
    """Prefix → namespace bindings with longest-match compaction and exact expansion."""

    bindings: Mapping[str, str]
    _by_namespace: dict[str, str] = field(init=False, repr=False, compare=False)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        clean: dict[str, str] = {}
        for prefix, namespace in sorted(self.bindings.items()):
            if not _PREFIX_NAME.fullmatch(prefix):
                raise OntologyError(
                    f"prefix `{prefix}` is not a valid prefix name (a letter, then letters, "
                    "digits, `_`, `-` or `.`)"
                )
            if not namespace or not _SCHEME.match(namespace):
                raise OntologyError(
                    f"prefix `{prefix}` is bound to `{namespace}`, which is not an absolute IRI"
                )
            clean[prefix] = namespace
        by_ns: dict[str, str] = {}
        for prefix, namespace in clean.items():  # sorted: the first prefix of a namespace wins
            by_ns.setdefault(namespace, prefix)
        # Longest namespaces first: regex alternation takes the first alternative that
        # matches, so this gives the longest match in one C-level call.
        ordered = sorted(by_ns, key=lambda ns: (-len(ns), ns))
        pattern = re.compile("|".join(re.escape(ns) for ns in ordered)) if ordered else None
        object.__setattr__(self, "bindings", clean)
        object.__setattr__(self, "_by_namespace", by_ns)
        object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def standard(cls, extra: Mapping[str, str] | None = None) -> PrefixMap:
        """The standard prefixes plus ``extra`` (which wins on a clash)."""
        return cls({**STANDARD_PREFIXES, **(extra or {})})

    @classmethod
    def from_graph(cls, graph: rdflib.Graph, *, base: PrefixMap | None = None) -> PrefixMap:
        """``base`` (default: the standard prefixes) plus the prefixes the graph declares.

        Only prefixes the parsed files declared are taken; rdflib's built-in bindings
        (``brick``, ``schema`` …) are not, so compact forms do not depend on rdflib's version.
        """
        builtin = {(p, str(ns)) for p, ns in rdflib.Graph().namespaces()}
        declared = {p: str(ns) for p, ns in graph.namespaces() if p and (p, str(ns)) not in builtin}
        start = dict((base or cls.standard()).bindings)
        return cls({**start, **declared})

    def merged(self, extra: Mapping[str, str]) -> PrefixMap:
        """A new map with ``extra`` added (``extra`` wins on a clash)."""
        return PrefixMap({**self.bindings, **extra})

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(sorted(self.bindings.items()))

    def compact(self, iri: str) -> str:
        """``prefix:local`` for the longest matching namespace, else the IRI itself."""
        if self._pattern is not None:
            m = self._pattern.match(iri)
            if m is not None:
                return f"{self._by_namespace[m.group(0)]}:{iri[m.end():]}"
        scheme = _SCHEME.match(iri)
        if scheme is not None and scheme.group(1) in self.bindings:
            return f"<{iri}>"
        return iri

    def expand(self, text: str) -> str:
        """The full IRI of a compact form (or of a full / angle-bracketed IRI)."""
        if text.startswith("<") and text.endswith(">"):
            return text[1:-1]
        prefix, sep, local = text.partition(":")
        if sep and prefix in self.bindings:
            return self.bindings[prefix] + local
        return text

    def is_known_prefix(self, prefix: str) -> bool:
        """Whether ``prefix`` is bound."""
        return prefix in self.bindings
