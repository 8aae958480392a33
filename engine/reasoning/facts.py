"""Ground facts and request inputs as clingo Symbols, never as text from users.

The binding hands the engine facts as Symbols; the engine writes them into the program as
``str(symbol)``, which clingo quotes and escapes itself, so a string holding ``"). evil. %``
stays one string. Request parameters are typed by the ``@param`` declarations and become
Symbols through ``clingo.String`` / ``clingo.Number`` / ``clingo.Function``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import clingo

from engine.errors import ParameterError, SolveError
from engine.reasoning.rules import ActionDecl, ParamType, RuleSet
from engine.reasoning.transform import INPUTS

_NAME = re.compile(r"^_*[a-z][A-Za-z0-9_']*$")
_EPOCH = dt.date(1970, 1, 1)
TRUE, FALSE = clingo.Function("true"), clingo.Function("false")


@dataclass(frozen=True)
class FactSet:
    """Ground atoms from the knowledge graph, sorted and de-duplicated, with their revision."""

    atoms: tuple[clingo.Symbol, ...]
    revision: str

    @classmethod
    def from_groups(
        cls, groups: Mapping[str, Iterable[clingo.Symbol]], *, revision: str | None = None
    ) -> FactSet:
        """Facts grouped by predicate (as the binding produces them); the revision defaults
        to a sha256 over the sorted atoms."""
        names: dict[str, bool] = {}
        atoms = sorted({a for group in groups.values() for a in group})
        for atom in atoms:
            _check_atom(atom, names)
        if revision is None:
            digest = hashlib.sha256()
            for atom in atoms:
                digest.update(str(atom).encode() + b"\n")
            revision = digest.hexdigest()
        return cls(tuple(atoms), revision)

    @classmethod
    def from_text(cls, text: str) -> FactSet:
        """Facts from author-written ASP fact text (rule test fixtures, never user input)."""
        messages: list[str] = []
        ctl = clingo.Control(["--warn=none"], logger=lambda _c, m: messages.append(m))
        try:
            ctl.add("base", [], text)
            ctl.ground([("base", [])])
        except RuntimeError as exc:
            detail = messages[0].strip().splitlines()[0] if messages else str(exc)
            raise SolveError(f"fixture facts do not parse: {detail}") from exc
        atoms = [a.symbol for a in ctl.symbolic_atoms if a.is_fact]
        return cls.from_groups({"fixture": atoms})

    @cached_property
    def atom_set(self) -> frozenset[clingo.Symbol]:
        """The atoms as a set, for membership tests."""
        return frozenset(self.atoms)

    @cached_property
    def values(self) -> frozenset[int]:
        """The atoms' clingo symbol values (clingo interns symbols: equal atoms, equal
        values), for membership tests without a cffi hash per test."""
        return frozenset(a._rep for a in self.atoms)

    def text(self, signatures: frozenset[tuple[str, int]] | None = None) -> str:
        """The facts as program text (one ``atom.`` a line), optionally only these predicates."""
        atoms = (
            self.atoms
            if signatures is None
            else (a for a in self.atoms if (a.name, len(a.arguments)) in signatures)
        )
        return "".join(f"{a}.\n" for a in atoms)


def _check_atom(atom: clingo.Symbol, names: dict[str, bool]) -> None:
    if atom.type != clingo.SymbolType.Function or not atom.name or not atom.positive:
        raise SolveError(f"fact `{atom}` is not an atom")
    if (atom.name, len(atom.arguments)) in INPUTS or atom.name.startswith("__"):
        raise SolveError(f"fact `{atom}` uses a reserved predicate")
    _check_names(atom, names)


def _check_names(sym: clingo.Symbol, names: dict[str, bool]) -> None:
    if sym.type != clingo.SymbolType.Function:
        return
    if sym.name:
        ok = names.get(sym.name)
        if ok is None:
            ok = names[sym.name] = bool(_NAME.match(sym.name))
        if not ok:
            raise SolveError(f"fact term `{sym.name}` is not a valid clingo name")
    for arg in sym.arguments:
        _check_names(arg, names)


def days_since_epoch(day: dt.date) -> int:
    """The integer the rules compare dates by."""
    return (day - _EPOCH).days


def typed_value(name: str, kind: ParamType, value: object) -> clingo.Symbol:
    """A request value as a Symbol of the declared type; ParameterError when it does not fit."""
    shown = str(value)[:80]
    if kind in ("iri", "string") and isinstance(value, str):
        if kind == "iri" and (not value or any(c.isspace() for c in value)):
            raise ParameterError(f"parameter `{name}` expects an iri, got `{shown}`")
        return clingo.String(value)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return clingo.Number(value)
    if kind == "bool" and isinstance(value, bool):
        return TRUE if value else FALSE
    if kind == "date":
        if isinstance(value, dt.date):
            return clingo.Number(days_since_epoch(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return clingo.Number(value)
        if isinstance(value, str):
            try:
                return clingo.Number(days_since_epoch(dt.date.fromisoformat(value)))
            except ValueError:
                pass
    raise ParameterError(f"parameter `{name}` expects {kind}, got `{shown}`")


def matches_type(kind: ParamType, sym: clingo.Symbol) -> bool:
    """Whether a Symbol is a value of the declared type."""
    if kind in ("iri", "string"):
        return sym.type == clingo.SymbolType.String
    if kind in ("int", "date"):
        return sym.type == clingo.SymbolType.Number
    return sym in (TRUE, FALSE)


def action_symbol(rules: RuleSet, name: str, args: Iterable[object]) -> clingo.Symbol:
    """A proposed action as a Symbol, typed by its ``@action`` declaration."""
    decl = _action_decl(rules, name)
    values = list(args)
    if len(values) != len(decl.args):
        raise ParameterError(f"action `{name}` takes {len(decl.args)} arguments, got {len(values)}")
    return clingo.Function(
        name,
        [typed_value(f"{name}.{var}", t, v) for (var, t), v in zip(decl.args, values, strict=True)],
    )


def check_action(rules: RuleSet, action: clingo.Symbol) -> clingo.Symbol:
    """Check a Symbol against the ``@action`` declarations; returns it unchanged."""
    if action.type != clingo.SymbolType.Function or not action.name:
        raise ParameterError(f"action `{action}` is not an action term")
    decl = _action_decl(rules, action.name)
    if len(action.arguments) != len(decl.args):
        raise ParameterError(
            f"action `{action.name}` takes {len(decl.args)} arguments, got {len(action.arguments)}"
        )
    for (var, kind), arg in zip(decl.args, action.arguments, strict=True):
        if not matches_type(kind, arg):
            raise ParameterError(f"argument `{var}` of action `{action.name}` expects {kind}")
    return action


def _action_decl(rules: RuleSet, name: str) -> ActionDecl:
    for decl in rules.actions:
        if decl.name == name:
            return decl
    raise ParameterError(f"unknown action type `{name}`")
