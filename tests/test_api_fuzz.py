"""Fuzz the OpenAPI surface with schemathesis against the live server: never a 5xx.

The schemathesis CLI runs in a subprocess against uvicorn on loopback, with an admin key, a
fixed seed and a small example budget so the run stays well under a minute. Only the
``not_a_server_error`` check is asserted: 4xx answers to nonsense are the point. Key
revocation (``DELETE``) is left out: the fuzzer would revoke the key it runs with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.api_harness import ADMIN_KEY, run_api


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    with run_api(tmp_path) as api:
        api.plan({"min_risk": 80})  # some state for the ids the fuzzer cannot guess
        schema = api.client.get("/openapi.json", headers=api.admin)
        assert schema.status_code == 200
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(schema.json()))
        st = Path(sys.executable).with_name("st")
        result = subprocess.run(
            [str(st), "run", str(spec), "--url", api.base_url,
             "--header", f"X-API-Key: {ADMIN_KEY}",
             "--checks", "not_a_server_error",
             "--max-examples", "10", "--seed", "7",
             "--phases", "examples,fuzzing",
             "--exclude-method", "DELETE",  # revoking the fuzzer's own key ends the run
             "--request-timeout", "20", "--workers", "1", "--no-color"],
            capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        assert " passed" in output and "generated" in output
        assert "Authentication failed" not in output
        assert api.client.get("/v1/audit/verify", headers=api.admin).json()["ok"] is True
