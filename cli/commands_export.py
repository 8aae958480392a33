"""Export commands: plans, actions, decisions and proofs written to an external graph.

Examples::

    warrant export neo4j                          # every stored plan, to [export.neo4j]
    warrant export neo4j --plan plan-1a2b3c       # one plan
    warrant export neo4j --goal remediate         # plan now, store it, export it
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from cli.context import build_context, utc_now
from cli.main import app, handles_errors
from cli.options import DataDirOpt, JsonOpt, WorkspaceOpt
from engine.errors import ConfigError, Location
from engine.planning import PlanRecord

console = Console()
export_app = typer.Typer(help="Write plans and proofs to an external graph.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("neo4j")
@handles_errors
def export_neo4j(
    plan_ids: Annotated[
        list[str] | None, typer.Option("--plan", help="A stored plan id (repeatable).")
    ] = None,
    goal: Annotated[
        str | None, typer.Option("--goal", help="Plan for this goal now, then export it.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many recent plans, by default.")] = 50,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge plans, actions, decisions and proofs into Neo4j as a property graph (idempotent)."""
    from engine.action.db import open_database
    from engine.export import workspace_sink
    from engine.plan_store import PlanStore

    ctx = build_context(workspace, data_dir)
    target = ctx.workspace.config.export.neo4j
    if target is None:
        raise ConfigError(
            "no `[export.neo4j]` table with a bolt `url` in warrant.toml",
            Location(file="warrant.toml", field="export.neo4j"),
        )
    ctx.settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    plans = PlanStore(open_database(ctx.settings.audit_db_url))
    records: list[PlanRecord]
    if goal is not None:
        from engine.planning import DecisionPlane

        with ctx.store() as store:
            record = DecisionPlane(ctx.workspace, store, clock=utc_now).plan(goal)
        records = [plans.save(record)]
    elif plan_ids:
        records = [plans.get(pid) for pid in plan_ids]
    else:
        records = plans.list(limit=limit)
    sink = workspace_sink(ctx.workspace)
    assert sink is not None
    with sink:
        summary = sink.export(records)
    if as_json:
        print(json.dumps({"export": summary.as_dict(), "plans": [r.id for r in records]}, indent=2))
        return
    console.print(
        f"exported {summary.plans} plan(s), {summary.actions} action(s), "
        f"{summary.rule_instances} rule instance(s), {summary.facts} fact(s), "
        f"{summary.links} link(s) to source nodes; created {summary.nodes_created} node(s) and "
        f"{summary.relationships_created} relationship(s)",
        highlight=False,
    )
