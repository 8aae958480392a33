"""No plan: the minimal set of constraints (and request inputs) that cannot hold together.

Every integrity constraint is compiled as ``:- Body, __on(I).`` with ``#external __on(I).``
(see ``transform``); request inputs are atoms of the grounding too (see ``solve``). A solve
assumes them all; when it is unsatisfiable, clingo's core names some of them (plus internal
literals, which are filtered out). The core is then shrunk by deletion: drop one member,
solve again, keep it dropped if the rest still conflicts. The result is minimal: removing any
member makes a plan possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import clingo
from pydantic import BaseModel, ConfigDict

from engine.reasoning.facts import FactSet
from engine.reasoning.request import Request
from engine.reasoning.solve import Assumption, Solver
from engine.reasoning.transform import ON


class ConflictItem(BaseModel):
    """One member of a conflict: a constraint (id, file:line, label), an input or an assumption."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["constraint", "input", "assumption"]
    rule_id: str | None = None
    file: str | None = None
    line: int | None = None
    label: str | None = None
    atom: str | None = None


class Conflict(BaseModel):
    """A minimal conflicting set; empty when the rules conflict without any constraint."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    items: tuple[ConflictItem, ...]

    def describe(self) -> str:
        """One line naming the members, for error messages."""
        parts = [
            f"`{i.rule_id}` ({i.file}:{i.line})" if i.kind == "constraint" else f"`{i.atom}`"
            for i in self.items
        ]
        return ", ".join(parts) if parts else "no constraint is involved"


def minimal_conflict(
    solver: Solver, facts: FactSet, request: Request, *, extra: Sequence[Assumption] = ()
) -> Conflict:
    """The minimal conflict of an unsatisfiable request (``extra`` assumptions stay fixed)."""
    first = solver.solve(facts, request, extra=extra)
    if first.satisfiable:
        return Conflict(items=())
    inputs = [s for s in request.inputs() if s in first.core]
    constraints = [
        i
        for i in sorted(solver.program.constraints)
        if clingo.Function(ON, [clingo.Number(i)]) in first.core
    ]
    fixed = [s for s, _v in extra if s in first.core]
    kept_c, kept_i = list(constraints), list(inputs)
    for kind, value in [("c", c) for c in constraints] + [("i", i) for i in inputs]:
        trial_c = [c for c in kept_c if not (kind == "c" and c == value)]
        trial_i = [i for i in kept_i if not (kind == "i" and i == value)]
        if len(trial_c) + len(trial_i) == len(kept_c) + len(kept_i):
            continue
        answer = solver.solve(facts, request, extra=extra, constraints=trial_c, inputs=trial_i)
        if not answer.satisfiable:
            core = set(answer.core)
            kept_c = [c for c in trial_c if clingo.Function(ON, [clingo.Number(c)]) in core]
            kept_i = [i for i in trial_i if i in core]
    items: list[ConflictItem] = []
    for c in kept_c:
        rule = solver.program.constraints[c]
        items.append(
            ConflictItem(
                kind="constraint",
                rule_id=rule.id,
                file=rule.file,
                line=rule.line,
                label=rule.label if rule.label is not None else rule.text,
            )
        )
    items += [ConflictItem(kind="input", atom=str(i)) for i in kept_i]
    items += [ConflictItem(kind="assumption", atom=str(s)) for s in fixed]
    return Conflict(items=tuple(items))
