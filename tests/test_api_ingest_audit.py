"""Push ingestion, pull ingestion, rules, audit (incl. tampering) and failing webhooks over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app as cli_app
from engine.action.backoff import RetryPolicy
from engine.action.db import audit_entries
from tests.api_harness import ApiHarness, run_api
from tests.servers.webhook import WebhookBehaviour

PUSH = "/v1/sources/vendors/records"
RECORDS = """PREFIX wr: <https://w3id.org/warrant/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?rec ?batch WHERE { GRAPH ?g { ?rec a wr:SourceRecord ; prov:wasGeneratedBy ?batch ;
  wr:produced <<( ?vendor <https://example.org/api#riskScore> ?v )>> } }"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with run_api(tmp_path) as harness:
        yield harness


def _select(api: ApiHarness, query: str) -> list[dict[str, str]]:
    r = api.client.get("/sparql", params={"query": query}, headers=api.admin)
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def test_push_upsert_and_delete_with_provenance(api: ApiHarness) -> None:
    r = api.client.post(PUSH, headers=api.key("app"), json={
        "key": ["vendor_id"],
        "upsert": [{"vendor_id": "V9", "name": "Iota", "risk": "88", "tier": "normal"}],
        "delete": [{"vendor_id": "V1"}],
    })
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["unchanged"] is False and summary["quarantined"] == 0
    rows = _select(api, RECORDS.replace("?vendor", "<https://example.org/vendor/V9>"))
    assert rows == [{"rec": "urn:warrant:record:vendors:data%2Fvendors.csv:vendor_id=V9",
                     "batch": f"urn:warrant:batch:{summary['batch_id']}"}]
    assert _select(api, RECORDS.replace("?vendor", "<https://example.org/vendor/V1>")) == []
    plan = api.plan({"min_risk": 80})
    actions = {a["action"] for a in plan["actions"]}
    assert 'review("v:V9")' in actions and 'review("v:V1")' not in actions
    again = api.client.post(PUSH, headers=api.key("app"), json={
        "key": ["vendor_id"],
        "upsert": [{"vendor_id": "V9", "name": "Iota", "risk": "88", "tier": "normal"}]})
    assert again.json()["unchanged"] is True  # idempotent
    batches = [e for e in api.service.audit_entries(limit=1000) if e.kind == "ingest.batch"]
    assert batches[-2].payload["pushed"] is True and batches[-2].payload["deleted"] == 1


def test_pushed_record_that_breaks_a_shape_is_quarantined(api: ApiHarness) -> None:
    r = api.client.post(PUSH, headers=api.admin, json={
        "key": ["vendor_id"],
        "upsert": [{"vendor_id": "V1", "name": "Alpha", "risk": "900", "tier": "normal"}]})
    assert r.status_code == 200
    body = r.json()
    assert body["quarantined"] == 1
    assert body["quarantine"][0]["record"] == "data/vendors.csv#vendor_id=V1"
    kinds = [e.kind for e in api.service.audit_entries(limit=1000)]
    assert "ingest.quarantine" in kinds
    # the V1 facts left with the broken record; the other vendors are untouched
    plan = api.plan({"min_risk": 80})
    assert 'review("v:V1")' not in {a["action"] for a in plan["actions"]}
    fixed = api.client.post(PUSH, headers=api.admin, json={
        "key": ["vendor_id"],
        "upsert": [{"vendor_id": "V1", "name": "Alpha", "risk": "91", "tier": "normal"}]})
    assert fixed.json()["quarantined"] == 0
    assert 'review("v:V1")' in {a["action"] for a in api.plan({"min_risk": 80})["actions"]}


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (PUSH, {"key": [], "upsert": []}, 422, "invalid_request"),
        (PUSH, {"key": ["vendor_id"], "upsert": [{"name": "no key"}]}, 400, "parameter_error"),
        (PUSH, {"key": ["vendor_id"], "upsert": [{"vendor_id": "V7", "name": "x"}]}, 400,
         "mapping_error"),
        (PUSH, {"key": ["vendor_id"], "upsert": [{"vendor_id": {"a": 1}}]}, 422,
         "invalid_request"),
        (PUSH, {"key": ["vendor_id"], "upsert": [{"vendor_id": "V1", "name": "A", "risk": "1",
                                                  "tier": "normal"}],
                "delete": [{"vendor_id": "V1"}]}, 400, "parameter_error"),
        (PUSH, {"key": ["vendor_id"], "delete": [{"vendor_id": ""}]}, 400, "parameter_error"),
        (PUSH, {"key": ["vendor_id"], "unknown": 1}, 422, "invalid_request"),
        ("/v1/sources/nope/records", {"key": ["id"]}, 404, "not_found"),
        ("/v1/ingest", {"sources": ["nope"]}, 404, "not_found"),
        ("/v1/ingest", {"sources": "vendors"}, 422, "invalid_request"),
    ],
)
def test_bad_pushes_store_nothing(api: ApiHarness, path: str, body: object, status: int,
                                  code: str) -> None:
    before = api.service.store.count()
    r = api.client.post(path, json=body, headers=api.admin)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert api.service.store.count() == before


def test_pull_ingest_over_http(api: ApiHarness) -> None:
    csv = api.workspace / "data" / "vendors.csv"
    csv.write_text(csv.read_text() + "V5,Epsilon,97,normal\n")
    r = api.client.post("/v1/ingest", json={"sources": ["vendors"]}, headers=api.key("app"))
    assert r.status_code == 200
    assert r.json()[0]["added"] > 0
    assert api.client.post("/v1/ingest", headers=api.admin).json()[0]["unchanged"] is True


def test_rules_reload_and_check(api: ApiHarness) -> None:
    author = api.key("author")
    assert api.client.get("/v1/rules/check", headers=author).json()["ok"] is True
    api.client.post("/v1/rules/reload", headers=author)
    first = api.client.post("/v1/rules/reload", headers=author).json()
    assert first["changed"] is False and first["before"] == first["after"]
    rules = api.workspace / "rules" / "policy.lp"
    good = rules.read_text()
    rules.write_text(good + "\nbroken(X :- .\n")
    bad = api.client.post("/v1/rules/reload", headers=author)
    assert bad.status_code == 400
    assert "policy.lp" in json.dumps(bad.json())
    check = api.client.get("/v1/rules/check", headers=author).json()
    assert check["ok"] is False and check["messages"][0]["location"].startswith("rules/policy.lp")
    rules.write_text(good + "\n% @rule extra \"extra\"\nextra(V) :- vendor(V).\n")
    changed = api.client.post("/v1/rules/reload", headers=author).json()
    assert changed["changed"] is True
    reloads = [e for e in api.service.audit_entries(limit=1000) if e.kind == "rules.reload"]
    assert [e.payload["ok"] for e in reloads] == [True, True, False, True]


def test_audit_lists_and_verifies_and_names_a_tampered_entry(api: ApiHarness,
                                                             tmp_path: Path) -> None:
    plan = api.plan({"min_risk": 80})
    api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin)
    api.client.get("/v1/audit", headers={"X-API-Key": "wrong"})  # an audited auth failure
    entries = api.client.get("/v1/audit", params={"limit": 1000},
                             headers=api.key("reader")).json()
    kinds = {e["kind"] for e in entries}
    assert {"ingest.batch", "plan", "dispatch.request", "dispatch.enqueue",
            "auth.failure"} <= kinds
    assert api.client.get("/v1/audit", params={"since": 2, "limit": 1},
                          headers=api.admin).json()[0]["seq"] == 3
    assert api.client.get("/v1/audit/verify", headers=api.admin).json()["ok"] is True
    engine = api.service.engine
    with engine.begin() as conn:
        conn.execute(sa.update(audit_entries).where(audit_entries.c.seq == 2)
                     .values(actor="someone-else"))
    report = api.client.get("/v1/audit/verify", headers=api.admin).json()
    assert report == {**report, "ok": False, "first_bad_seq": 2, "problem": "edited"}
    runner = CliRunner()
    result = runner.invoke(cli_app, ["audit", "verify", "--json", "--workspace",
                                     str(api.workspace), "--data-dir", str(tmp_path / "var")])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_seq"] == 2


@pytest.mark.parametrize(
    ("behaviour", "final"),
    [
        (WebhookBehaviour(status=500), "dead"),
        (WebhookBehaviour(status=422), "dead"),
        (WebhookBehaviour(delay_s=1.5), "dead"),
        (WebhookBehaviour(fail_first=1), "succeeded"),
    ],
)
def test_failing_webhook_ends_on_the_dead_letter_list(
    tmp_path: Path, behaviour: WebhookBehaviour, final: str
) -> None:
    policy = RetryPolicy(max_attempts=2, base_delay_s=0.05, max_delay_s=0.1, lease_s=10)
    hook_timeout = 0.5 if behaviour.delay_s else 2.0
    with run_api(tmp_path, behaviour=behaviour, retry_policy=policy,
                 hook_timeout_s=hook_timeout) as api:
        plan = api.plan({"min_risk": 85})
        api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin)
        aid = f"{plan['id']}.a0"

        def state() -> str:
            steps = api.client.get(f"/v1/plans/{plan['id']}/progress", headers=api.admin)
            found: dict[str, str] = {s["action_id"]: s["state"] for s in steps.json()["steps"]}
            return found[aid]

        api.receiver.wait_for(lambda: state() == final, timeout_s=30)
        letters = api.client.get("/v1/dispatch/dead-letters", headers=api.admin).json()
        assert (aid in {d["action_id"] for d in letters}) == (final == "dead")
        if final == "dead":
            held = api.client.get(f"/v1/plans/{plan['id']}/progress", headers=api.admin).json()
            assert {s["action_id"]: s["state"] for s in held["steps"]}[f"{plan['id']}.a1"] == "held"
            retry = api.client.post(f"/v1/dispatch/dead-letters/{aid}/retry", headers=api.admin)
            assert retry.status_code == 202
            twice = api.client.post(f"/v1/dispatch/dead-letters/{plan['id']}.a1/retry",
                                    headers=api.admin)
            assert twice.status_code == 409
        missing = api.client.post("/v1/dispatch/dead-letters/nope/retry", headers=api.admin)
        assert missing.status_code == 404
        applied = list(api.receiver.applied().values())
        assert applied.count(aid) <= 1
