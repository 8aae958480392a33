"""One module per benchmark scenario; each has ``run(ctx) -> list[Figure]``."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from bench.measure import Figure
from bench.prepare import ScenarioContext

# In the order they run: ingest first, as it builds the reference store the others read.
SCENARIOS: tuple[str, ...] = ("ingest", "shacl", "sparql", "plan", "served", "explain",
                              "dispatch", "memory")
TITLES: dict[str, str] = {
    "ingest": "1. Ingest",
    "shacl": "2. SHACL gate",
    "sparql": "3. SPARQL",
    "plan": "4. Plans and decisions",
    "served": "4b. Plans and decisions over HTTP",
    "explain": "5. Explanations",
    "dispatch": "6. Dispatch and audit",
    "memory": "7. Memory",
}


def scenario(name: str) -> Callable[[ScenarioContext], list[Figure]]:
    """The ``run`` function of scenario ``name``."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario `{name}`; known: {', '.join(SCENARIOS)}")
    run: Callable[[ScenarioContext], list[Figure]] = import_module(f"bench.scenarios.{name}").run
    return run
