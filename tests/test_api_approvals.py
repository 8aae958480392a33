"""Approvals over real HTTP: per role, twice, never escalated, rejected, and stale facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_harness import ApiHarness, run_api
from tests.servers.postgres import PostgresServer


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with run_api(tmp_path) as harness:
        yield harness


def _escalated(api: ApiHarness, plan: dict[str, Any]) -> dict[str, Any]:
    r = api.client.get("/v1/approvals", params={"role": "ciso"}, headers=api.key("reader"))
    assert r.status_code == 200
    found = [a for a in r.json() if a["plan_id"] == plan["id"]]
    assert len(found) == 1
    entry: dict[str, Any] = found[0]
    return entry


def test_only_the_named_approver_decides(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    entry = _escalated(api, plan)
    assert entry["action"] == 'review("v:V2")' and entry["state"] == "pending"
    assert {b["atom"] for b in entry["basis"]} >= {'tier("v:V2","critical")',
                                                   'risk_score("v:V2",95)'}
    detail = api.client.get(f"/v1/approvals/{entry['id']}", headers=api.key("approver:ciso"))
    assert detail.status_code == 200 and detail.json()["proof"]["roots"]
    for roles in (("approver:dpo",), ("app",), ("reader",), ("author",)):
        r = api.client.post(f"/v1/approvals/{entry['id']}/approve", json={"comment": "x"},
                            headers=api.key(*roles))
        assert r.status_code == 403, roles
        assert r.json()["code"] == "forbidden"
    failures = [e for e in api.service.audit_entries(limit=1000) if e.kind == "auth.failure"]
    assert len(failures) >= 4
    ok = api.client.post(f"/v1/approvals/{entry['id']}/approve",
                         json={"comment": "checked the contract"},
                         headers=api.key("approver:ciso"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["approval"]["state"] == "approved"
    assert ok.json()["approval"]["comment"] == "checked the contract"
    twice = api.client.post(f"/v1/approvals/{entry['id']}/reject", json={},
                            headers=api.key("approver:ciso"))
    assert twice.status_code == 409 and twice.json()["code"] == "conflict"
    kinds = [e.kind for e in api.service.audit_entries(limit=1000)]
    assert kinds.count("approval") == 1


def test_unknown_and_never_escalated_approvals(api: ApiHarness) -> None:
    for path in ("/v1/approvals/apr-0000000000000000", "/v1/approvals/plan-x.a0",
                 "/v1/approvals/apr-0000000000000000/approve"):
        method = "POST" if path.endswith("approve") else "GET"
        r = api.client.request(method, path, json={}, headers=api.admin)
        assert r.status_code == 404, path
        assert r.json()["code"] == "not_found"
    bad = api.client.post("/v1/approvals/x/approve", json={"comment": 3}, headers=api.admin)
    assert bad.status_code == 422


def test_reject_means_never_dispatched(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    entry = _escalated(api, plan)
    r = api.client.post(f"/v1/approvals/{entry['id']}/reject", json={"comment": "no"},
                        headers=api.key("approver:ciso"))
    assert r.status_code == 200 and r.json()["approval"]["state"] == "rejected"
    d = api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin).json()
    states = {s["action"]: s["state"] for s in d["steps"]}
    assert states['review("v:V2")'] == "rejected"


def test_approved_action_of_a_dispatched_plan_runs(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin)
    entry = _escalated(api, plan)
    r = api.client.post(f"/v1/approvals/{entry['id']}/approve", json={"comment": "go"},
                        headers=api.key("approver:ciso"))
    assert r.status_code == 200
    report = r.json()["dispatch"]
    assert report["rechecks"][0]["holds"] is True
    assert {s["action"]: s["state"] for s in report["steps"]}['review("v:V2")'] == "ready"
    api.receiver.wait_for(lambda: f"{plan['id']}.a2" in api.receiver.applied().values())
    query = """PREFIX wr: <https://w3id.org/warrant/core#>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    SELECT ?state ?outcome WHERE { GRAPH <urn:warrant:graph:decisions> {
      ?ap a wr:Approval ; wr:approvalState ?state ; prov:wasInformedBy ?d .
      ?x a wr:Dispatch ; prov:wasInformedBy ?d ; wr:dispatchOutcome ?outcome } }"""
    api.receiver.wait_for(lambda: any(
        api.client.get("/sparql", params={"query": query}, headers=api.admin)
        .json()["results"]["bindings"]))


def test_escalated_decision_with_dispatch_runs_when_approved(api: ApiHarness) -> None:
    r = api.client.post("/v1/decisions", json={"action": 'review("v:V2")', "dispatch": True},
                        headers=api.key("app"))
    body = r.json()
    assert body["decision"]["kind"] == "escalate" and body["dispatch"] is None
    ok = api.client.post(f"/v1/approvals/{body['approval_id']}/approve", json={},
                         headers=api.key("approver:ciso"))
    assert ok.json()["dispatch"]["enqueued"] == 1
    api.receiver.wait_for(lambda: f"{body['decision_id']}.a0" in api.receiver.applied().values())


def test_changed_facts_supersede_an_approval_before_dispatch(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    entry = _escalated(api, plan)
    ok = api.client.post(f"/v1/approvals/{entry['id']}/approve", json={"comment": "fine"},
                         headers=api.key("approver:ciso"))
    assert ok.status_code == 200 and ok.json()["dispatch"] is None
    # V2's risk changes after the approval, through a pushed record
    push = api.client.post("/v1/sources/vendors/records", headers=api.key("app"), json={
        "key": ["vendor_id"],
        "upsert": [{"vendor_id": "V2", "name": "Beta", "risk": "96", "tier": "critical"}]})
    assert push.status_code == 200, push.text
    d = api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin).json()
    recheck = d["rechecks"][0]
    assert recheck["holds"] is False
    assert recheck["changed_facts"] == ['risk_score("v:V2",95)']
    assert recheck["new_kind"] == "escalate" and recheck["new_approval_id"]
    assert {s["action"]: s["state"] for s in d["steps"]}['review("v:V2")'] == "superseded"
    old = api.client.get(f"/v1/approvals/{entry['id']}", headers=api.admin).json()
    assert old["state"] == "superseded" and old["superseded_by"] == recheck["new_decision_id"]
    new = api.client.get(f"/v1/approvals/{recheck['new_approval_id']}", headers=api.admin).json()
    assert new["state"] == "pending"
    assert new["plan_id"] == recheck["new_decision_id"]
    assert {b["atom"] for b in new["basis"]} == {'tier("v:V2","critical")'}
    assert f"{plan['id']}.a2" not in api.receiver.applied().values()
    assert "approval.superseded" in [e.kind for e in api.service.audit_entries(limit=1000)]


def test_tier_change_turns_an_approval_into_a_deny(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    entry = _escalated(api, plan)
    api.client.post(f"/v1/approvals/{entry['id']}/approve", json={},
                    headers=api.key("approver:ciso"))
    api.client.post("/v1/sources/vendors/records", headers=api.admin, json={
        "key": ["vendor_id"],
        "upsert": [{"vendor_id": "V2", "name": "Beta", "risk": "95", "tier": "hold"}]})
    d = api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin).json()
    assert d["rechecks"][0]["new_kind"] == "deny"
    assert d["rechecks"][0]["new_approval_id"] is None


def test_queue_on_postgres(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database("api_approvals")
    with run_api(tmp_path, audit_url=url) as api:
        plan = api.plan({"min_risk": 80})
        entry = _escalated(api, plan)
        ok = api.client.post(f"/v1/approvals/{entry['id']}/approve", json={},
                             headers=api.key("approver:ciso"))
        assert ok.status_code == 200
        twice = api.client.post(f"/v1/approvals/{entry['id']}/approve", json={},
                                headers=api.key("approver:ciso"))
        assert twice.status_code == 409
        assert api.client.get("/v1/audit/verify", headers=api.admin).json()["ok"] is True


def _queue_depth(api: ApiHarness) -> float:
    text = api.client.get("/metrics", headers=api.admin).text
    (line,) = [x for x in text.splitlines() if x.startswith("warrant_approval_queue_depth ")]
    return float(line.split()[1])


def test_the_queue_depth_gauge_is_current_when_scraped(api: ApiHarness) -> None:
    assert _queue_depth(api) == 0
    plan = api.plan({"min_risk": 80})
    pending = api.service.approvals.pending_count()
    assert pending >= 1 and _queue_depth(api) == pending
    entry = _escalated(api, plan)
    ok = api.client.post(f"/v1/approvals/{entry['id']}/approve", json={},
                         headers=api.key("approver:ciso"))
    assert ok.status_code == 200, ok.text
    assert _queue_depth(api) == pending - 1
