"""Which steps of a plan are ready to dispatch (pure function, table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.action.dispatch_plan import select_steps
from engine.planning import PlanRecord
from engine.reasoning import Decision, Plan, PlannedAction


def _record(*steps: tuple[str, str, tuple[str, ...]]) -> PlanRecord:
    actions = tuple(
        PlannedAction(index=i, action=text, after=after,
                      decision=Decision(kind=kind, role="ciso" if kind == "escalate" else None,  # type: ignore[arg-type]
                                        roles=("ciso",) if kind == "escalate" else (),
                                        reasons=("r",) if kind != "allow" else ()))
        for i, (text, kind, after) in enumerate(steps)
    )
    plan = Plan(goal="g", params={}, actions=actions, cost=(), cost_breakdown=(), optimal=True,
                findings=(), rules_revision="r", facts_revision="f")
    return PlanRecord(id="plan-x", kind="plan", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                      kg_state="f", now=0, plan=plan)


A, B, C = 'a("1")', 'b("1")', 'c("1")'


@pytest.mark.parametrize(
    ("steps", "approved", "states", "types", "expected"),
    [
        ([(A, "allow", ()), (B, "allow", (A,))], set(), {}, {"a", "b"},
         ["ready", "ready"]),
        ([(A, "escalate", ()), (B, "allow", (A,))], set(), {0: "pending"}, {"a", "b"},
         ["awaiting_approval", "waiting_on"]),
        ([(A, "escalate", ()), (B, "allow", (A,))], {0}, {0: "approved"}, {"a", "b"},
         ["ready", "ready"]),
        ([(A, "escalate", ()), (B, "allow", (A,))], set(), {0: "rejected"}, {"a", "b"},
         ["rejected", "waiting_on"]),
        ([(A, "escalate", ())], set(), {0: "superseded"}, {"a"}, ["superseded"]),
        ([(A, "deny", ()), (B, "allow", (A,)), (C, "allow", (B,))], set(), {}, {"a", "b", "c"},
         ["denied", "waiting_on", "waiting_on"]),
        ([(A, "allow", ()), (B, "allow", ())], set(), {}, {"a"}, ["ready", "no_executor"]),
    ],
)
def test_select_steps(steps: list[tuple[str, str, tuple[str, ...]]], approved: set[int],
                      states: dict[int, str], types: set[str], expected: list[str]) -> None:
    selection = select_steps(_record(*steps), approved=approved, approval_states=states,
                             approval_ids={i: f"apr-{i}" for i in states},
                             action_types=types)
    assert [s.state for s in selection.steps] == expected
    ready = [s.action_id for s in selection.steps if s.state == "ready"]
    assert [e.action_id for e in selection.envelopes] == ready
    for env in selection.envelopes:
        assert set(env.after) <= set(ready)  # never after a step that is not enqueued
