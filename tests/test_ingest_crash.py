"""Atomicity under a crash: a real ``warrant ingest`` process killed with SIGKILL at many points.

Whatever moment the kill lands, the store holds either the previous state or the new one:
the source graph, its records graph and the provenance agree, never half a batch.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from engine.store.oxigraph import OxigraphStore
from tests.ingest_workspace import write_workspace

ROWS = 8_000


def people_csv(rows: int, age_offset: int) -> str:
    lines = ["person_id,name,team,age"]
    lines += [f"P{i},Person {i},T{1 + i % 2},{20 + (i + age_offset) % 60}" for i in range(rows)]
    return "\n".join(lines) + "\n"


REPO = Path(__file__).resolve().parent.parent


def ingest_cmd(ws: Path, data: Path, *sources: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cli",
        "ingest",
        *sources,
        "--workspace",
        str(ws),
        "--data-dir",
        str(data),
    ]


def run_ingest(ws: Path, data: Path, *sources: str) -> None:
    subprocess.run(ingest_cmd(ws, data, *sources), check=True, capture_output=True, cwd=REPO)


def state(data: Path) -> tuple[int, int, int]:
    """(batches of people, triples in people's graph, record links) — read from the store."""
    store = OxigraphStore(data / "kg")
    try:
        batches = sum(
            1
            for _ in store.match(
                None,
                ox.NamedNode("http://www.w3.org/ns/prov#used"),
                ox.NamedNode("urn:warrant:source:people"),
                ox.NamedNode("urn:warrant:graph:provenance"),
            )
        )
        data_n = store.count(ox.NamedNode("urn:warrant:graph:source:people"))
        links = sum(
            1
            for _ in store.match(
                None,
                ox.NamedNode("https://w3id.org/warrant/core#produced"),
                None,
                ox.NamedNode("urn:warrant:graph:records:people"),
            )
        )
        return batches, data_n, links
    finally:
        store.close()
        del store


def kill_after(cmd: list[str], seconds: float) -> bool:
    """Run ``cmd``, SIGKILL it after ``seconds`` if it still runs; True if it was killed."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    time.sleep(seconds)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed

def test_killed_ingest_leaves_previous_or_new_state(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", people=people_csv(ROWS, 0))
    (ws / "data" / "teams.csv").write_text("team_id,name,budget\nT1,A,1\nT2,B,2\n")
    data = tmp_path / "var"
    # the committed starting point, and how long the next batch takes here (on a copy)
    run_ingest(ws, data)
    old = state(data)
    assert old[0] == 1 and old[1] == ROWS * 4 and old[2] == ROWS * 4

    (ws / "data" / "people.csv").write_text(people_csv(ROWS, 7))
    shutil.copytree(data, tmp_path / "probe")
    started = time.monotonic()
    run_ingest(ws, tmp_path / "probe", "people")
    duration = time.monotonic() - started

    kills_mid_run = 0
    for fraction in (0.1, 0.3, 0.5, 0.65, 0.8, 0.9, 0.95, 1.0):
        kills_mid_run += kill_after(ingest_cmd(ws, data, "people"), duration * fraction)
        batches, n, links = state(data)
        # one consistent state: every batch either fully there or not at all
        assert n == ROWS * 4 and links == ROWS * 4, (fraction, batches, n, links)
        assert batches in (1, 2)
        if batches == 2:
            break
    # a final uninterrupted run converges to the new state
    run_ingest(ws, data, "people")
    assert state(data)[0] == 2
    assert kills_mid_run >= 1  # the kills really interrupted running batches


def test_killed_first_ingest_leaves_nothing_or_everything(tmp_path: Path) -> None:
    """The first batch of a source is bulk-loaded under a commit marker (staged write)."""
    ws = write_workspace(tmp_path / "ws", people=people_csv(ROWS, 0))
    (ws / "data" / "teams.csv").write_text("team_id,name,budget\nT1,A,1\nT2,B,2\n")
    started = time.monotonic()
    run_ingest(ws, tmp_path / "probe")
    duration = time.monotonic() - started

    kills_mid_run = 0
    for i, fraction in enumerate((0.5, 0.75, 0.9, 0.97)):
        data = tmp_path / f"var-{i}"
        kills_mid_run += kill_after(ingest_cmd(ws, data), duration * fraction)
        if not (data / "kg").exists():
            continue
        assert state(data) in ((0, 0, 0), (1, ROWS * 4, ROWS * 4)), fraction
        run_ingest(ws, data)  # and the next run completes it
        assert state(data) == (1, ROWS * 4, ROWS * 4)
    assert kills_mid_run >= 1
