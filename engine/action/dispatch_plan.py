"""Which of a plan's actions may be dispatched now, and in which order (pure; no I/O).

An action is *ready* when its decision is ``allow``, or ``escalate`` and its approval was
approved and re-checked, and an executor handles its type — and every action it comes
``after`` is ready too (the plan lists actions in a topological order, so one pass decides).
Everything else gets a status saying why it waits or will never run: ``awaiting_approval``,
``rejected``, ``superseded``, ``denied``, ``no_executor``, ``waiting_on`` (a predecessor is not
ready). Ready actions become :class:`ActionEnvelope` s whose ``after`` are their
predecessors' action ids, so the outbox runs them in the plan's order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from engine.action.executors import ActionEnvelope
from engine.decision_graph import action_id_of
from engine.planning import PlanRecord, parse_action

StepState = Literal[
    "ready", "awaiting_approval", "rejected", "superseded", "denied", "no_executor", "waiting_on"
]


@dataclass(frozen=True)
class StepPlan:
    """One action of a plan as dispatch sees it."""

    index: int
    action: str
    action_id: str
    state: StepState
    detail: str = ""


@dataclass(frozen=True)
class DispatchSelection:
    """The plan's steps and the envelopes of the ready ones, in plan order."""

    steps: tuple[StepPlan, ...]
    envelopes: tuple[ActionEnvelope, ...]


def select_steps(
    record: PlanRecord,
    *,
    approved: Collection[int],
    approval_states: Mapping[int, str],
    approval_ids: Mapping[int, str],
    action_types: Collection[str],
) -> DispatchSelection:
    """Decide each step's state and build the envelopes of the ready ones.

    ``approved`` holds the indexes of escalated actions that were approved and still hold on
    the current KG; ``approval_states`` the queue state of every other escalated index.
    """
    plan = record.plan
    index_of = {a.action: a.index for a in plan.actions}
    ready: dict[int, ActionEnvelope] = {}
    steps: list[StepPlan] = []
    for planned in sorted(plan.actions, key=lambda a: a.index):
        idx = planned.index
        aid = action_id_of(record.id, idx)
        name, args = parse_action(planned.action)
        kind = planned.decision.kind
        state: StepState = "ready"
        detail = ""
        if kind == "deny":
            state, detail = "denied", "; ".join(planned.decision.reasons)
        elif kind == "escalate" and idx not in approved:
            queue = approval_states.get(idx, "pending")
            state = {"rejected": "rejected", "superseded": "superseded"}.get(
                queue, "awaiting_approval")  # type: ignore[assignment]
            detail = f"approval `{approval_ids.get(idx, '?')}` is {queue}"
        elif name not in action_types:
            state, detail = "no_executor", f"no executor for action type `{name}`"
        else:
            preds = [index_of[b] for b in planned.after if b in index_of]
            blocked = [p for p in preds if p not in ready]
            if blocked:
                state = "waiting_on"
                detail = ", ".join(f"`{action_id_of(record.id, p)}`" for p in blocked)
            else:
                ready[idx] = ActionEnvelope.create(
                    action_id=aid,
                    action_type=name,
                    plan_id=record.id,
                    after=tuple(sorted(action_id_of(record.id, p) for p in preds)),
                    payload={
                        "action": planned.action,
                        "args": list(args),
                        "goal": plan.goal,
                        "decision": kind,
                        "reasons": list(planned.decision.reasons),
                        "approval_id": approval_ids.get(idx),
                    },
                )
        steps.append(StepPlan(idx, planned.action, aid, state, detail))
    return DispatchSelection(tuple(steps), tuple(ready[i] for i in sorted(ready)))
