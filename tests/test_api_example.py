"""End to end on the real example workspace: plan, proof, approval, webhook, SPARQL."""

from __future__ import annotations

from pathlib import Path

from tests.api_harness import run_api

REPO = Path(__file__).resolve().parent.parent
SUSPEND = 'suspend_flow("acme:processing/P-0031")'
ROW_31 = "urn:warrant:record:processing:data%2Fprocessing.json:row=31"


def test_example_plan_approval_dispatch_and_sparql(tmp_path: Path) -> None:
    types = ("request_evidence", "schedule_reassessment", "suspend_flow", "notify_dpo",
             "open_ticket")
    with run_api(tmp_path, source=REPO, webhook_types=types, log_types=()) as api:
        plan = api.plan()
        kinds = {a["decision"]["kind"] for a in plan["actions"]}
        assert kinds == {"allow", "escalate", "deny"}
        step = next(a for a in plan["actions"] if a["action"] == SUSPEND)
        assert step["decision"]["roles"] == ["ciso"]
        proof = api.client.get(f"/v1/plans/{plan['id']}/proof",
                               params={"action": SUSPEND, "format": "text"}, headers=api.admin)
        assert "data/processing.json#row=31" in proof.text
        api.client.post(f"/v1/plans/{plan['id']}/dispatch", headers=api.admin)
        ciso = api.key("approver:ciso")
        queue = api.client.get("/v1/approvals", params={"role": "ciso"}, headers=ciso).json()
        entry = next(a for a in queue if a["action"] == SUSPEND)
        ok = api.client.post(f"/v1/approvals/{entry['id']}/approve",
                             json={"comment": "go"}, headers=ciso).json()
        assert ok["dispatch"]["rechecks"][0]["holds"] is True
        aid = step["action_id"]
        api.receiver.wait_for(lambda: aid in api.receiver.applied().values(), timeout_s=40)
        query = f"""PREFIX wr: <https://w3id.org/warrant/core#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?kind WHERE {{ GRAPH <urn:warrant:graph:decisions> {{
          ?d wr:decides <urn:warrant:action:{aid}> ; wr:decisionKind ?kind ;
             prov:used <{ROW_31}> }} }}"""
        rows = api.client.get("/sparql", params={"query": query}, headers=api.admin).json()
        assert [b["kind"]["value"] for b in rows["results"]["bindings"]] == ["escalate"]
