"""Templates with ``$(ref)`` parts: compiled once, expanded against each record.

A template is the text of a YARRRML subject or object, split into constant parts and
:class:`Reference` parts when the mapping file is loaded, so that mapping a million records
never parses or compiles anything again.

Expansion follows RML:

- a reference reads a field of the record; ``$(address.city)`` / ``$(tags[0])`` walk into
  nested JSON values when the source is not tabular;
- a null or empty value yields no term; a list value yields one term per element;
- values placed in an IRI template are made IRI-safe (R2RML §7.3: every character outside
  RFC 3987 ``iunreserved`` is UTF-8 percent-encoded), while a template that is a single
  reference and nothing else gives the value as written (the value is the IRI);
- values become their lexical form: booleans ``true``/``false``, dates and times in ISO 8601,
  numbers as written by Python (``Decimal`` in fixed notation).

>>> t = compile_template("https://id.example/vendor/$(id)", line=1, column=1)
>>> t.render({"id": "ACME Ltd"}, iri=True, strict=True)
['https://id.example/vendor/ACME%20Ltd']
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from engine.errors import Location, MappingError

_REF_OPEN: Final = "$("
# A path segment: a name up to the next '.' or '[', or an index / wildcard in brackets.
_SEGMENT: Final = re.compile(r"\[(\d+|\*)\]|([^.\[\]]+)")

# RFC 3987 iunreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" / ucschar; everything else
# is percent-encoded in an IRI template value (R2RML "IRI-safe version of a string").
_IRI_UNSAFE: Final = re.compile(
    "[^A-Za-z0-9\\-._~"
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    "\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
    "\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd]"
)


class MissingField(Exception):
    """A tabular record has no field of the referenced name; the mapper adds the record."""

    def __init__(self, reference: Reference) -> None:
        super().__init__(reference.name)
        self.reference = reference


class BadValue(Exception):
    """A referenced value cannot become an RDF term (an object, bytes …)."""

    def __init__(self, reference: Reference, reason: str) -> None:
        super().__init__(reason)
        self.reference = reference
        self.reason = reason


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8", "surrogatepass"))


def iri_safe(value: str) -> str:
    """The IRI-safe form of ``value``: characters outside ``iunreserved`` percent-encoded."""
    return _IRI_UNSAFE.sub(_percent, value)


def _float_lexical(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(value)


_LEXICAL: Final[dict[type, Callable[[object], str]]] = {
    bool: lambda v: "true" if v else "false",
    int: str,
    float: _float_lexical,  # type: ignore[dict-item]
    Decimal: lambda v: format(v, "f"),
    dt.date: lambda v: v.isoformat(),  # type: ignore[attr-defined]
    dt.datetime: lambda v: v.isoformat(),  # type: ignore[attr-defined]
    dt.time: lambda v: v.isoformat(),  # type: ignore[attr-defined]
}


def lexical_forms(value: object) -> list[str]:
    """The lexical forms of a Python value: none for null / ``""``, one per list element.

    Raises ``TypeError`` for values that have no lexical form (objects, bytes).
    """
    if type(value) is str:
        return [value] if value else []
    if value is None:
        return []
    convert = _LEXICAL.get(type(value))
    if convert is not None:
        return [convert(value)]
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(lexical_forms(item))
        return out
    if isinstance(value, str):
        return [str(value)] if value else []
    for kind, conv in _LEXICAL.items():
        if isinstance(value, kind):
            return [conv(value)]
    raise TypeError(f"a value of type `{type(value).__name__}` has no lexical form")


@dataclass(frozen=True)
class Reference:
    """A ``$(name)`` part of a template, with where it is written in the mapping file."""

    name: str
    path: tuple[str | int | None, ...]
    line: int
    column: int

    def values(self, record: Mapping[str, object], *, strict: bool) -> list[str]:
        """The lexical forms this reference reads from ``record`` (empty when null).

        ``strict`` (tabular sources): a name the record lacks raises :class:`MissingField`.
        Otherwise a name the record lacks is read as a dotted path, absent keys being null.
        """
        name = self.name
        if name in record:
            value = record[name]
        elif strict:
            raise MissingField(self)
        elif len(self.path) == 1:
            return []
        else:
            value = _walk(record, self.path)
        try:
            return lexical_forms(value)
        except TypeError as exc:
            if isinstance(value, Mapping):
                reason = f"reference `{name}` reads an object, not a value"
            else:
                reason = str(exc)
            raise BadValue(self, reason) from exc


def _walk(record: Mapping[str, object], path: tuple[str | int | None, ...]) -> object:
    """Follow a parsed path through nested dicts and lists; ``None`` segments flatten lists."""
    current: list[object] = [record]
    for step in path:
        nxt: list[object] = []
        for node in current:
            if isinstance(step, str):
                if isinstance(node, Mapping) and step in node:
                    nxt.append(node[step])
                elif isinstance(node, list):
                    nxt.extend(n[step] for n in node if isinstance(n, Mapping) and step in n)
            elif step is None:
                if isinstance(node, list):
                    nxt.extend(node)
            elif isinstance(node, list) and -len(node) <= step < len(node):
                nxt.append(node[step])
        current = nxt
    if not current:
        return None
    return current[0] if len(current) == 1 else current


def parse_path(name: str) -> tuple[str | int | None, ...] | None:
    """Split ``a.b[0].c`` / ``tags[*]`` into segments; ``None`` when the name is not a path."""
    segments: list[str | int | None] = []
    pos = 0
    while pos < len(name):
        if name[pos] == "." and segments and pos + 1 < len(name):
            pos += 1
        match = _SEGMENT.match(name, pos)
        if match is None:
            return None
        index, key = match.groups()
        if key is not None:
            segments.append(key)
        else:
            segments.append(None if index == "*" else int(index))
        pos = match.end()
    return tuple(segments) if segments else None


@dataclass(frozen=True)
class Template:
    """A compiled template: constant text and references, in order."""

    text: str
    parts: tuple[str | Reference, ...]
    line: int
    column: int
    references: tuple[Reference, ...] = field(init=False)

    def __post_init__(self) -> None:
        refs = tuple(p for p in self.parts if isinstance(p, Reference))
        object.__setattr__(self, "references", refs)

    @property
    def is_constant(self) -> bool:
        """True when the template has no references."""
        return not self.references

    @property
    def is_reference(self) -> bool:
        """True when the template is one reference and nothing else."""
        return len(self.parts) == 1 and bool(self.references)

    def render(self, record: Mapping[str, object], *, iri: bool, strict: bool) -> list[str]:
        """Every string this template gives for ``record``; empty when a reference is null.

        ``iri``: percent-encode referenced values (not for a lone reference, whose value is
        itself the IRI). ``strict``: see :meth:`Reference.values`.
        """
        parts = self.parts
        if len(parts) == 1:
            only = parts[0]
            if isinstance(only, str):
                return [only]
            return only.values(record, strict=strict)
        pieces: list[str] = []
        multi: list[tuple[int, list[str]]] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            vals = part.values(record, strict=strict)
            if not vals:
                return []
            if iri:
                vals = [iri_safe(v) for v in vals]
            if len(vals) > 1:
                multi.append((len(pieces), vals))
            pieces.append(vals[0])
        if not multi:
            return ["".join(pieces)]
        results: list[list[str]] = [pieces]
        for index, vals in multi:
            grown: list[list[str]] = []
            for partial in results:
                for v in vals:
                    copy = list(partial)
                    copy[index] = v
                    grown.append(copy)
            results = grown
        return ["".join(r) for r in results]

    def renderer(self, *, iri: bool, strict: bool) -> Callable[[Mapping[str, object]], list[str]]:
        """A function equal to ``render`` with these options, specialised for speed.

        Built once per template by the mapper: it reads plain string fields directly and
        falls back to :meth:`render` for anything else (lists, other types, missing fields).
        """
        parts = self.parts
        slow = self.render
        if not self.references:
            constant = [self.text]
            return lambda _record: constant
        if len(parts) == 1:
            ref = self.references[0]
            name = ref.name

            def lone(record: Mapping[str, object]) -> list[str]:
                value = record.get(name)
                if type(value) is str:
                    return [value] if value else []
                return ref.values(record, strict=strict)

            return lone
        skeleton = [p if isinstance(p, str) else "" for p in parts]
        slots = tuple((i, p.name) for i, p in enumerate(parts) if isinstance(p, Reference))
        encode = iri_safe if iri else None

        def joined(record: Mapping[str, object]) -> list[str]:
            pieces = skeleton.copy()
            for index, name in slots:
                value = record.get(name)
                if type(value) is not str:
                    return slow(record, iri=iri, strict=strict)
                if not value:
                    return []
                pieces[index] = encode(value) if encode is not None else value
            return ["".join(pieces)]

        return joined

    def sample(self, filler: str = "x") -> str:
        """The template with every reference replaced by ``filler``, to check its shape."""
        return "".join(p if isinstance(p, str) else filler for p in self.parts)


def compile_template(text: str, *, line: int, column: int, file: str | None = None) -> Template:
    """Split ``text`` into constant parts and references; reject an unclosed or empty ``$()``."""
    parts: list[str | Reference] = []
    pos = 0
    while True:
        start = text.find(_REF_OPEN, pos)
        if start < 0:
            if pos < len(text):
                parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        end = text.find(")", start + 2)
        ref_line = line + text.count("\n", 0, start)
        where = Location(file=file, line=ref_line, column=column)
        if end < 0:
            raise MappingError(f"unclosed reference in template `{text}`", location=where)
        name = text[start + 2 : end].strip()
        path = parse_path(name) if name else None
        if path is None:
            raise MappingError(f"bad reference `$({name})` in template `{text}`", location=where)
        parts.append(Reference(name=name, path=path, line=ref_line, column=column))
        pos = end + 1
    if not parts:
        parts.append("")
    return Template(text=text, parts=tuple(parts), line=line, column=column)
