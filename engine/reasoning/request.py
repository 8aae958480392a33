"""A request to the solver: the goal, typed parameters, the clock and a proposed action."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import clingo

from engine.errors import ParameterError
from engine.reasoning.facts import check_action, typed_value
from engine.reasoning.rules import RuleSet

DECIDE_GOAL = "decide"


@dataclass(frozen=True)
class Request:
    """Inputs of one solve; they reach clingo as Symbols (assumptions), never as program text."""

    goal: str
    params: tuple[tuple[str, clingo.Symbol], ...] = ()
    now: int | None = None
    proposed: clingo.Symbol | None = None

    def inputs(self) -> tuple[clingo.Symbol, ...]:
        """The input atoms: ``request(G)``, ``param(N, V)`` …, ``proposed(A)``."""
        out = [clingo.Function("request", [clingo.Function(self.goal)])]
        out += [clingo.Function("param", [clingo.Function(n), v]) for n, v in self.params]
        if self.proposed is not None:
            out.append(clingo.Function("proposed", [self.proposed]))
        return tuple(out)

    def given(self) -> tuple[clingo.Symbol, ...]:
        """Every atom the request makes true: the inputs plus ``now(T)``."""
        now = () if self.now is None else (clingo.Function("now", [clingo.Number(self.now)]),)
        return self.inputs() + now

    def param_values(self) -> dict[str, str | int | bool]:
        """The parameters as plain JSON values."""
        out: dict[str, str | int | bool] = {}
        for name, sym in self.params:
            if sym.type == clingo.SymbolType.String:
                out[name] = sym.string
            elif sym.type == clingo.SymbolType.Number:
                out[name] = sym.number
            else:
                out[name] = sym.name == "true"
        return out


def plan_request(
    rules: RuleSet, goal: str, params: Mapping[str, object] | None = None, *, now: int | None
) -> Request:
    """A planning request checked against the ``@goal`` and ``@param`` declarations."""
    if goal not in {g.name for g in rules.goals}:
        known = ", ".join(sorted(g.name for g in rules.goals)) or "none declared"
        raise ParameterError(f"unknown goal `{goal}` (goals: {known})")
    return Request(goal, _typed(rules, params or {}), now)


def decide_request(
    rules: RuleSet,
    action: clingo.Symbol,
    params: Mapping[str, object] | None = None,
    *,
    now: int | None,
) -> Request:
    """A decide-mode request for one proposed action (checked against ``@action``)."""
    return Request(DECIDE_GOAL, _typed(rules, params or {}), now, check_action(rules, action))


def _typed(rules: RuleSet, params: Mapping[str, object]) -> tuple[tuple[str, clingo.Symbol], ...]:
    decls = {p.name: p for p in rules.params}
    out = []
    for name in sorted(params):
        decl = decls.get(name)
        if decl is None:
            raise ParameterError(f"unknown parameter `{name}`")
        out.append((name, typed_value(name, decl.type, params[name])))
    return tuple(out)
