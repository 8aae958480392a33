"""Typed request parameters: values become symbols, bad input is a located ParameterError."""

from __future__ import annotations

import clingo
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.binding.params import ParamSpec, ParamType, bind_params
from engine.binding.prefixes import PrefixMap
from engine.errors import ParameterError

PM = PrefixMap.standard({"acme": "https://id.acme.example/"})
SPECS = {
    "vendor": ParamSpec("vendor", "iri"),
    "note": ParamSpec("note", "string"),
    "limit": ParamSpec("limit", "int"),
    "since": ParamSpec("since", "date"),
    "strict": ParamSpec("strict", "bool"),
}


def _one(name: str, raw: str) -> clingo.Symbol:
    (sym,) = bind_params(SPECS, {name: raw}, prefixes=PM)
    assert sym.name == "param" and sym.arguments[0] == clingo.Function(name)
    return sym.arguments[1]


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("vendor", "acme:vendor/V001", clingo.String("acme:vendor/V001")),
        ("vendor", "https://id.acme.example/vendor/V001", clingo.String("acme:vendor/V001")),
        ("vendor", "<https://id.acme.example/vendor/V001>", clingo.String("acme:vendor/V001")),
        ("vendor", "vr:high", clingo.String("vr:high")),
        ("vendor", "urn:isbn:123", clingo.String("urn:isbn:123")),
        ("note", "", clingo.String("")),
        ("note", 'x"). action(evil). %', clingo.String('x"). action(evil). %')),
        ("limit", "42", clingo.Number(42)),
        ("limit", "-3", clingo.Number(-3)),
        ("limit", "2147483647", clingo.Number(2147483647)),
        ("since", "2025-01-01", clingo.Number(20089)),
        ("since", "1970-01-01", clingo.Number(0)),
        ("strict", "true", clingo.Function("true")),
        ("strict", "false", clingo.Function("false")),
    ],
)
def test_values(name: str, raw: str, value: clingo.Symbol) -> None:
    assert _one(name, raw) == value


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("limit", "abc", "an integer"),
        ("limit", "1.5", "an integer"),
        ("limit", "", "an integer"),
        ("limit", "2147483648", "an integer"),
        ("limit", "1; action(x)", "an integer"),
        ("since", "2025-13-01", "a date"),
        ("since", "2025-02-30", "a date"),
        ("since", "01/02/2025", "a date"),
        ("since", "0000-01-01", "a date"),
        ("strict", "yes", "`true` or `false`"),
        ("vendor", "not an iri", "an IRI"),
        ("vendor", 'x"). action(evil). %', "an IRI"),
        ("vendor", "acme:has space", "an IRI"),
        ("vendor", "", "an IRI"),
        ("note", "a\x00b", "a string"),
    ],
)
def test_wrong_types(name: str, raw: str, expected: str) -> None:
    with pytest.raises(ParameterError) as info:
        bind_params(SPECS, {name: raw}, prefixes=PM)
    err = info.value
    assert f"`{name}`" in err.message and expected in err.message
    assert err.location is not None and err.location.field == name
    assert err.code == "parameter_error" and "\n" not in err.message


def test_unknown_parameter_lists_known_ones() -> None:
    with pytest.raises(ParameterError) as info:
        bind_params(SPECS, {"vendr": "acme:v"}, prefixes=PM)
    message = info.value.message
    assert "`vendr`" in message
    for known in SPECS:
        assert f"`{known}`" in message


def test_required_and_non_string_values() -> None:
    specs = {"v": ParamSpec("v", "int", required=True)}
    with pytest.raises(ParameterError, match="missing required parameter `v`"):
        bind_params(specs, {}, prefixes=PM)
    with pytest.raises(ParameterError, match="`v`"):
        bind_params(specs, {"v": 3}, prefixes=PM)  # type: ignore[dict-item]


@pytest.mark.parametrize(("name", "ptype"), [("Bad", "int"), ("a-b", "int"), ("x", "float")])
def test_bad_specs(name: str, ptype: str) -> None:
    with pytest.raises(ParameterError):
        ParamSpec(name, ptype)  # type: ignore[arg-type]


def test_spec_filed_under_other_name() -> None:
    with pytest.raises(ParameterError, match="filed under"):
        bind_params({"a": ParamSpec("b", "int")}, {}, prefixes=PM)


def test_output_sorted_by_name() -> None:
    syms = bind_params(SPECS, {"strict": "true", "limit": "1", "note": "n"}, prefixes=PM)
    assert [str(s.arguments[0]) for s in syms] == ["limit", "note", "strict"]


def _derived(params: list[clingo.Symbol]) -> list[clingo.Symbol]:
    ctl = clingo.Control()
    ctl.add("base", [], "p(X) :- param(v, X).")
    with ctl.backend() as backend:
        for sym in params:
            backend.add_rule([backend.add_atom(sym)])
    ctl.ground([("base", [])])
    return sorted(a.symbol for a in ctl.symbolic_atoms if a.symbol.name != "param")


def test_injection_attempt_is_one_string() -> None:
    evil = 'x"). action(evil). %'
    syms = bind_params({"v": ParamSpec("v", "string")}, {"v": evil}, prefixes=PM)
    assert _derived(syms) == [clingo.Function("p", [clingo.String(evil)])]
    # and through program text built from str(symbol), as the fact loader does:
    ctl = clingo.Control()
    ctl.add("base", [], "p(X) :- param(v, X).\n" + "".join(f"{s}.\n" for s in syms))
    ctl.ground([("base", [])])
    atoms = sorted(str(a.symbol) for a in ctl.symbolic_atoms)
    assert atoms == sorted([f"p({clingo.String(evil)})", f"param(v,{clingo.String(evil)})"])
    assert not any(a.symbol.name == "action" for a in ctl.symbolic_atoms)


_PTYPES: list[ParamType] = ["string", "int", "date", "bool", "iri"]


@given(st.sampled_from(_PTYPES), st.text())
def test_any_input_is_a_symbol_or_a_parameter_error(ptype: ParamType, raw: str) -> None:
    specs = {"v": ParamSpec("v", ptype)}
    try:
        syms = bind_params(specs, {"v": raw}, prefixes=PM)
    except ParameterError as err:
        assert "`v`" in err.message
        return
    (sym,) = syms
    assert clingo.parse_term(str(sym)) == sym
    derived = _derived(syms)
    assert derived == [clingo.Function("p", [sym.arguments[1]])]
