"""Typed request parameters: user input becomes ``param(Name, Value)`` symbols, never text.

A request's parameters are checked against the rules' declared :class:`ParamSpec` and built
with ``clingo.Function`` / ``String`` / ``Number`` — so a value like ``x"). action(evil). %``
is one string constant and cannot add atoms to the program (DESIGN "Request parameters become
typed facts; user input is never pasted into program text"). Values take the same form as KG
terms (:mod:`engine.binding.terms`): an IRI its compact string, a date its day number.

>>> from engine.binding.prefixes import PrefixMap
>>> pm = PrefixMap({"acme": "https://id.acme.example/"})
>>> specs = {"vendor": ParamSpec("vendor", "iri"), "limit": ParamSpec("limit", "int")}
>>> [str(s) for s in bind_params(specs, {"vendor": "https://id.acme.example/v/1",
...                                      "limit": "3"}, prefixes=pm)]
['param(limit,3)', 'param(vendor,"acme:v/1")']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import clingo

from engine.binding.prefixes import PrefixMap
from engine.binding.schema import IDENTIFIER
from engine.binding.terms import FALSE, TRUE, UnconvertibleTerm, parse_date
from engine.errors import Location, ParameterError

ParamType = Literal["iri", "string", "int", "date", "bool"]
"""The types a request parameter can have."""

_DAY_ZERO: Final = parse_date("1970-01-01")
_INT: Final = re.compile(r"[+-]?[0-9]{1,12}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3987 absolute IRI, loosely: a scheme, then no spaces or characters IRIs forbid.
_IRI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")
_EXPECTED: Final[dict[ParamType, str]] = {
    "iri": "an IRI or a compact IRI such as `acme:vendor/V001`",
    "string": "a string",
    "int": "an integer between -2147483648 and 2147483647",
    "date": "a date written YYYY-MM-DD",
    "bool": "`true` or `false`",
}


@dataclass(frozen=True)
class ParamSpec:
    """One parameter a request may carry: its ASP name and its type."""

    name: str
    type: ParamType
    required: bool = False

    def __post_init__(self) -> None:
        if not IDENTIFIER.fullmatch(self.name):
            raise ParameterError(
                f"parameter name `{self.name}` is not an ASP constant "
                "(a lowercase letter, then letters, digits or `_`)"
            )
        if self.type not in _EXPECTED:
            raise ParameterError(
                f"parameter `{self.name}` has the unknown type `{self.type}`; "
                f"use one of {', '.join(sorted(_EXPECTED))}"
            )


def _fail(spec: ParamSpec, raw: object) -> ParameterError:
    shown = str(raw) if len(str(raw)) <= 80 else str(raw)[:77] + "..."
    return ParameterError(
        f"parameter `{spec.name}` must be {_EXPECTED[spec.type]}, got `{shown}`",
        location=Location(field=spec.name),
        details={"param": spec.name, "expected": spec.type},
    )


def _value(spec: ParamSpec, raw: str, prefixes: PrefixMap) -> clingo.Symbol:
    if spec.type == "string":
        if "\x00" in raw:
            raise _fail(spec, raw.replace("\x00", "\\0"))
        return clingo.String(raw)
    text = raw.strip()
    if spec.type == "int":
        if not _INT.fullmatch(text) or not -(2**31) <= int(text) <= 2**31 - 1:
            raise _fail(spec, raw)
        return clingo.Number(int(text))
    if spec.type == "bool":
        if text in ("true", "false"):
            return TRUE if text == "true" else FALSE
        raise _fail(spec, raw)
    if spec.type == "date":
        if not _DATE.fullmatch(text):
            raise _fail(spec, raw)
        try:
            return clingo.Number((parse_date(text) - _DAY_ZERO).days)
        except UnconvertibleTerm as exc:
            raise _fail(spec, raw) from exc
    prefix, sep, _ = text.partition(":")
    if sep and prefixes.is_known_prefix(prefix) and _IRI.fullmatch(text):
        return clingo.String(prefixes.compact(prefixes.expand(text)))
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not _IRI.fullmatch(text):
        raise _fail(spec, raw)
    return clingo.String(prefixes.compact(text))


def bind_params(
    specs: Mapping[str, ParamSpec], raw: Mapping[str, str], *, prefixes: PrefixMap
) -> list[clingo.Symbol]:
    """``param(Name, Value)`` symbols for ``raw``, sorted by name; ParameterError if bad.

    Unknown names and values of the wrong type are errors naming the parameter; a parameter
    marked ``required`` that is missing is one too.
    """
    for key, declared in specs.items():
        if declared.name != key:
            raise ParameterError(f"parameter spec `{declared.name}` is filed under `{key}`")
    out: list[clingo.Symbol] = []
    for name in sorted(raw):
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(f"`{n}`" for n in sorted(specs)) or "none"
            raise ParameterError(
                f"unknown parameter `{name}`; known parameters: {known}",
                location=Location(field=name),
                details={"param": name, "known": sorted(specs)},
            )
        value = raw[name]
        if not isinstance(value, str):
            raise _fail(spec, value)
        out.append(clingo.Function("param", [clingo.Function(name), _value(spec, value, prefixes)]))
    missing = sorted(n for n, s in specs.items() if s.required and n not in raw)
    if missing:
        raise ParameterError(
            f"missing required parameter `{missing[0]}`",
            location=Location(field=missing[0]),
            details={"missing": missing},
        )
    return out
