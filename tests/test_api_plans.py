"""Plans, proofs, why-not, decisions and dispatch over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.vocab import GRAPH_DECISIONS
from tests.api_harness import ApiHarness, run_api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiHarness]:
    with run_api(tmp_path_factory.mktemp("api")) as harness:
        yield harness


def _actions(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["action"]: a for a in plan["actions"]}


def test_plan_has_one_allow_one_escalate_one_deny_in_order(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    acts = _actions(plan)
    assert acts['review("v:V1")']["decision"]["kind"] == "allow"
    assert acts['review("v:V2")']["decision"] == {
        "kind": "escalate", "roles": ["ciso"], "reasons": ["critical vendor"]}
    assert acts['review("v:V3")']["decision"] == {
        "kind": "deny", "roles": [], "reasons": ["vendor on hold"]}
    assert acts['notify("v:V1")']["after"] == ['review("v:V1")']
    got = api.client.get(f"/v1/plans/{plan['id']}", headers=api.key("reader"))
    assert got.status_code == 200 and got.json() == plan


def test_same_request_same_plan_and_idempotency_key(api: ApiHarness) -> None:
    first = api.plan({"min_risk": 70}, **{"Idempotency-Key": "idem-1"})
    again = api.plan({"min_risk": 70}, **{"Idempotency-Key": "idem-1"})
    assert again["id"] == first["id"]
    other = api.client.post("/v1/plans", json={"goal": "remediate", "params": {"min_risk": 71}},
                            headers={**api.admin, "Idempotency-Key": "idem-1"})
    assert other.status_code == 409
    assert other.json()["code"] == "conflict" and "idem-1" in other.json()["message"]
    plans = [e for e in api.service.audit_entries(limit=1000) if e.kind == "plan"
             and e.payload.get("idempotency_key") == "idem-1"]
    assert len(plans) == 1  # the replay computed and stored nothing new


@pytest.mark.parametrize(
    ("fmt", "media", "needle"),
    [
        ("json", "application/json", '"roots"'),
        ("text", "text/plain", "critical vendor"),
        ("dot", "text/vnd.graphviz", "digraph proof"),
        ("svg", "image/svg+xml", "<svg"),
    ],
)
def test_proof_formats(api: ApiHarness, fmt: str, media: str, needle: str) -> None:
    plan = api.plan({"min_risk": 80})
    r = api.client.get(f"/v1/plans/{plan['id']}/proof",
                       params={"action": 'review("v:V2")', "format": fmt}, headers=api.admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    assert needle in r.text
    if fmt == "json":
        graph = json.loads(r.text)
        assert set(graph["roots"]) == {'action(review("v:V2"))',
                                       'escalate(review("v:V2"),ciso,"critical vendor")'}
        leaves = [n for n in graph["nodes"].values() if n["kind"] == "fact" and n["source"] == "kg"]
        records = {o["record"]["iri"] for n in leaves for o in n["origin"]}
        assert records == {"urn:warrant:record:vendors:data%2Fvendors.csv:row=2"}
    if fmt == "svg":
        ET.fromstring(r.text)  # well-formed XML


def test_why_not(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    r = api.client.get(f"/v1/plans/{plan['id']}/why-not", params={"action": 'review("v:V4")'},
                       headers=api.admin)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "not_derivable"
    assert body["failures"][0]["condition"] == 'risky("v:V4")'


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/plans", {"goal": "remediate", "params": {"min_risk": "high"}}, 400,
         "parameter_error"),
        ("post", "/v1/plans", {"goal": "remediate", "params": {"min_risk": [1]}}, 422,
         "invalid_request"),
        ("post", "/v1/plans", {"goal": "remediate", "extra": 1}, 422, "invalid_request"),
        ("post", "/v1/plans", {"goal": "nope"}, 400, "parameter_error"),
        ("post", "/v1/plans", {"goal": "remediate", "params": {"evil": "x). #false."}}, 400,
         "parameter_error"),
        ("post", "/v1/plans", {"goal": 'remediate). action(x'}, 422, "invalid_request"),
        ("post", "/v1/plans", {"goal": "remediate", "params": {"min_risk": '1). bad. %'}}, 400,
         "parameter_error"),
        ("get", "/v1/plans/plan-0000000000000000", None, 404, "not_found"),
        ("get", "/v1/plans/plan-0000000000000000/proof", None, 404, "not_found"),
        ("post", "/v1/plans/plan-0000000000000000/dispatch", None, 404, "not_found"),
        ("post", "/v1/decisions", {"action": 'nuke("v:V1")'}, 400, "parameter_error"),
        ("post", "/v1/decisions", {"action": 'review("a", "b")'}, 400, "parameter_error"),
        ("post", "/v1/decisions", {"action": 'review("x"). action(nuke'}, 400,
         "parameter_error"),
        ("post", "/v1/decisions", {"action": ""}, 422, "invalid_request"),
    ],
)
def test_bad_plan_and_decision_requests(
    api: ApiHarness, method: str, path: str, body: object, status: int, code: str
) -> None:
    before = api.service.plans.list(limit=1000)
    r = api.client.request(method.upper(), path, json=body, headers=api.admin)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert set(r.json()) == {"code", "message", "details"}
    assert [p.id for p in api.service.plans.list(limit=1000)] == [p.id for p in before]


def test_malformed_json_and_oversized_body(api: ApiHarness) -> None:
    r = api.client.post("/v1/plans", content=b'{"goal": "remediate",',
                        headers={**api.admin, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    big = {"goal": "remediate", "params": {"min_risk": 1, "x": "a" * 300_000}}
    r = api.client.post("/v1/plans", json=big, headers=api.admin)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_unknown_proof_action_is_400(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    r = api.client.get(f"/v1/plans/{plan['id']}/proof", params={"action": 'review("v:V9")'},
                       headers=api.admin)
    assert r.status_code == 400 and "is not in plan" in r.json()["message"]


@pytest.mark.parametrize(
    ("action", "kind"),
    [('review("v:V1")', "allow"), ('review("v:V2")', "escalate"), ('review("v:V3")', "deny"),
     ("review(v:V1)", "allow"), ('review("https://example.org/vendor/V1")', "allow")],
)
def test_decisions(api: ApiHarness, action: str, kind: str) -> None:
    r = api.client.post("/v1/decisions", json={"action": action, "params": {"min_risk": 80}},
                        headers=api.key("app"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"]["kind"] == kind
    assert body["proof"]["roots"]
    assert (body["approval_id"] is not None) == (kind == "escalate")
    assert body["dispatch"] is None


def _wait_applied(api: ApiHarness, action_ids: set[str]) -> None:
    api.receiver.wait_for(lambda: action_ids <= set(api.receiver.applied().values()))


def test_dispatch_reaches_the_webhook_in_plan_order(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 85})
    pid = plan["id"]
    r = api.client.post(f"/v1/plans/{pid}/dispatch", headers=api.key("app"))
    assert r.status_code == 202
    steps = {s["action"]: s["state"] for s in r.json()["steps"]}
    assert steps == {'review("v:V1")': "ready", 'notify("v:V1")': "ready",
                     'review("v:V2")': "awaiting_approval", 'review("v:V3")': "denied"}
    assert r.json()["enqueued"] == 2
    _wait_applied(api, {f"{pid}.a0"})
    body = next(json.loads(q.body) for q in api.receiver.requests()
                if q.action_id == f"{pid}.a0")
    assert body["payload"]["action"] == 'review("v:V1")'
    assert all(req.signature_ok for req in api.receiver.requests())
    notify_log = Path(api.workspace / "notify.jsonl")
    api.receiver.wait_for(lambda: notify_log.exists() and pid in notify_log.read_text())
    again = api.client.post(f"/v1/plans/{pid}/dispatch", headers=api.admin)
    assert again.json()["enqueued"] == 0  # nothing is enqueued twice
    progress = api.client.get(f"/v1/plans/{pid}/progress", headers=api.admin).json()
    api.receiver.wait_for(lambda: api.client.get(f"/v1/plans/{pid}/progress",
                                                 headers=api.admin).json()["complete"])
    assert [s["action_id"] for s in progress["steps"]] == [f"{pid}.a0", f"{pid}.a1"]


def test_decision_with_dispatch_enqueues_an_allowed_action(api: ApiHarness) -> None:
    r = api.client.post("/v1/decisions", json={"action": 'review("v:V1")', "dispatch": True,
                                               "params": {"min_risk": 60}},
                        headers=api.key("app"))
    assert r.status_code == 201
    body = r.json()
    assert body["dispatch"]["enqueued"] == 1
    _wait_applied(api, {f"{body['decision_id']}.a0"})


def test_decisions_graph_names_the_source_record(api: ApiHarness) -> None:
    plan = api.plan({"min_risk": 80})
    query = """
    PREFIX wr: <https://w3id.org/warrant/core#>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?action ?kind ?record WHERE { GRAPH <urn:warrant:graph:decisions> {
      ?d a wr:Decision ; wr:decides ?a ; wr:decisionKind ?kind ; prov:used ?record ;
         prov:wasInformedBy ?plan .
      ?a rdfs:label ?action } }""".replace("?plan", f"<urn:warrant:plan:{plan['id']}>")
    r = api.client.get("/sparql", params={"query": query},
                       headers={**api.key("reader"), "Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    rows = {(b["action"]["value"], b["kind"]["value"], b["record"]["value"])
            for b in r.json()["results"]["bindings"]}
    assert ('review("v:V2")', "escalate",
            "urn:warrant:record:vendors:data%2Fvendors.csv:row=2") in rows
    assert ('review("v:V3")', "deny", "urn:warrant:record:vendors:data%2Fvendors.csv:row=3") in rows


def test_sparql_update_is_refused(api: ApiHarness) -> None:
    r = api.client.post("/sparql", data={"query": "DROP GRAPH <urn:warrant:graph:decisions>"},
                        headers=api.admin)
    assert r.status_code == 400
    assert api.service.store.count(GRAPH_DECISIONS) > 0


def test_metrics_count_plans_and_decisions(api: ApiHarness) -> None:
    api.plan({"min_risk": 80})
    text = api.client.get("/metrics", headers=api.admin).text
    assert "warrant_plans_total" in text
    assert 'warrant_decisions_total{kind="escalate"}' in text
    assert "warrant_approval_queue_depth" in text
    assert "warrant_dispatch_total" in text


@pytest.mark.parametrize(
    ("roles", "method", "path", "status"),
    [
        ((), "get", "/v1/audit", 401),
        (("reader",), "post", "/v1/plans", 403),
        (("approver:ciso",), "post", "/v1/decisions", 403),
        (("app",), "get", "/v1/audit", 403),
        (("reader",), "post", "/v1/rules/reload", 403),
        (("app",), "post", "/v1/dispatch/dead-letters/x/retry", 403),
        (("reader",), "post", "/v1/ingest", 403),
    ],
)
def test_roles_per_route(api: ApiHarness, roles: tuple[str, ...], method: str, path: str,
                         status: int) -> None:
    headers = api.key(*roles) if roles else {}
    r = api.client.request(method.upper(), path, json={}, headers=headers)
    assert r.status_code == status
    assert r.json()["code"] in ("unauthenticated", "forbidden")
