"""Decision-plane commands: schema, check, test, plan, decide, explain, why-not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from cli.context import Context, build_context, utc_now
from cli.main import app, handles_errors
from cli.options import DataDirOpt, JsonOpt, WorkspaceOpt
from engine.errors import ParameterError, WarrantError
from engine.planning import DecisionPlane, PlanRecord
from engine.proof_select import action_proof
from engine.reasoning import run_rule_tests

console = Console()

ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="A request parameter as name=value (repeatable)."),
]


def _params(raw: list[str] | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in raw or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"parameter `{item[:80]}` is not of the form name=value")
        out[name.strip()] = value
    return out


def _plane(ctx: Context, store: object) -> DecisionPlane:
    return DecisionPlane(ctx.workspace, store, clock=utc_now)  # type: ignore[arg-type]


@app.command()
@handles_errors
def schema(
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print every ASP predicate derived from the ontology: name/arity, IRI, argument types."""
    ctx = build_context(workspace, data_dir)
    from engine.store.oxigraph import OxigraphStore

    plane = DecisionPlane(ctx.workspace, OxigraphStore(None), clock=utc_now)
    if as_json:
        print(json.dumps(plane.schema().as_json(), indent=2))
    else:
        print(plane.schema().render_text(), end="")


@app.command()
@handles_errors
def check(
    skip_ontology: Annotated[
        bool, typer.Option("--skip-ontology", help="Skip the HermiT ontology check.")
    ] = False,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the ontology (HermiT), the shapes and the rules; one located line per problem."""
    ctx = build_context(workspace, data_dir)
    from engine.gate.shapes import load_shapes
    from engine.store.oxigraph import OxigraphStore

    messages: list[dict[str, object]] = []
    files = ctx.workspace.ontology_files()
    if files and not skip_ontology:
        from engine.knowledge.ontology import check_ontology

        report = check_ontology(files)
        for om in report.messages:
            messages.append(
                {
                    "severity": "error",
                    "code": f"ontology_{om.kind}",
                    "location": str(om.location),
                    "message": om.message,
                }
            )
    shape_files = sorted({f for s in ctx.workspace.config.sources.values() for f in s.shapes})
    try:
        load_shapes([ctx.workspace.resolve(f) for f in shape_files])
    except WarrantError as exc:
        messages.append(
            {
                "severity": "error",
                "code": exc.code,
                "location": str(exc.location or ""),
                "message": exc.message,
            }
        )
    plane = DecisionPlane(ctx.workspace, OxigraphStore(None), clock=utc_now)
    for rm in plane.check_messages():
        messages.append(
            {
                "severity": rm.severity,
                "code": rm.code,
                "location": str(rm.location),
                "message": rm.message,
            }
        )
    errors = [m for m in messages if m["severity"] == "error"]
    if as_json:
        print(json.dumps({"ok": not errors, "messages": messages}, indent=2))
    else:
        for m in messages:
            colour = "red" if m["severity"] == "error" else "yellow"
            console.print(
                f"{m['location']}: [{colour}]{m['severity']}[/] [dim]{m['code']}[/] {m['message']}",
                highlight=False,
            )
        summary = (
            f"{len(files)} ontology file(s), {len(shape_files)} shapes file(s), "
            f"{len(plane.rules().rules) if not errors else 'unchecked'} rule(s)"
        )
        console.print(
            ("[green]ok[/] " if not errors else f"[red]{len(errors)} error(s)[/] ") + summary,
            highlight=False,
        )
    if errors:
        raise typer.Exit(code=1)


@app.command("test")
@handles_errors
def test_rules(
    path: Annotated[
        Path | None, typer.Argument(help="A case file or folder (default rules/tests).")
    ] = None,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the rule unit tests (case files in rules/tests/) and list rules no test fired."""
    ctx = build_context(workspace, data_dir)
    from engine.store.oxigraph import OxigraphStore

    rules = DecisionPlane(ctx.workspace, OxigraphStore(None), clock=utc_now).rules()
    target = path or ctx.workspace.rules_dir() / "tests"
    report = run_rule_tests(rules, target)
    if as_json:
        print(
            report.model_dump_json(indent=2)
            if hasattr(report, "model_dump_json")
            else json.dumps(report, default=str)
        )
    else:
        for case in report.cases:
            mark = "[green]pass[/]" if case.passed else "[red]FAIL[/]"
            console.print(f"{mark} {case.name}", highlight=False)
            for failure in case.failures:
                console.print(f"     {failure}", highlight=False)
        if report.unfired_rules:
            console.print("[yellow]rules no test fired:[/] " + ", ".join(report.unfired_rules))
        passed = sum(1 for c in report.cases if c.passed)
        console.print(f"{passed}/{len(report.cases)} case(s) passed")
    if not report.passed:
        raise typer.Exit(code=1)


def _print_plan(record: PlanRecord) -> None:
    plan = record.plan
    title = f"{record.kind} {record.id}  goal={plan.goal}"
    if plan.params:
        title += "  " + " ".join(f"{k}={v}" for k, v in plan.params.items())
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("action", no_wrap=True)
    table.add_column("after")
    table.add_column("decision", no_wrap=True)
    table.add_column("reason")
    colours = {"allow": "green", "escalate": "yellow", "deny": "red"}
    index = {a.action: a.index for a in plan.actions}
    for a in plan.actions:
        d = a.decision
        who = f" → {', '.join(d.roles)}" if d.roles else ""
        table.add_row(
            str(a.index),
            a.action,
            ", ".join(f"#{index[b]}" for b in a.after if b in index),
            f"[{colours[d.kind]}]{d.kind}{who}[/]",
            "; ".join(d.reasons),
        )
    console.print(table)
    cost = ", ".join(str(c) for c in plan.cost) or "0"
    console.print(
        f"cost {cost} ({'optimal' if plan.optimal else 'best found, not proven optimal'})"
        f"; {len(plan.findings)} finding(s); rules {plan.rules_revision[:12]}, "
        f"facts {plan.facts_revision[:12]}",
        highlight=False,
    )
    console.print(f"[dim]warrant explain {record.id} ACTION  — the proof of an action[/]")


def _run(ctx: Context, fn: str, arg: str, params: dict[str, object], as_json: bool) -> None:
    from engine.action.backoff import SystemClock
    from engine.action.db import open_database
    from engine.service import WarrantService

    ctx.settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    engine = open_database(ctx.settings.audit_db_url)
    with ctx.store() as store:
        service = WarrantService.open(ctx.workspace, store, engine=engine, clock=SystemClock())
        try:  # through the service, so the plan or decision is audited and in the KG
            if fn == "plan":
                record = service.plan(arg, params, actor="cli")
            else:
                record = service.decide(arg, params, actor="cli").record
        finally:
            service.close()
    if as_json:
        print(json.dumps(record.as_dict(), indent=2, sort_keys=True))
    else:
        _print_plan(record)


@app.command()
@handles_errors
def plan(
    goal: Annotated[str, typer.Argument(help="A goal declared with `% @goal` in the rules.")],
    param: ParamOpt = None,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan for a goal: actions, order, cost, a policy decision and a proof per action."""
    _run(build_context(workspace, data_dir), "plan", goal, _params(param), as_json)


@app.command()
@handles_errors
def decide(
    action: Annotated[
        str, typer.Argument(help="A proposed action, e.g. suspend_flow(acme:processing/P-0003).")
    ],
    param: ParamOpt = None,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide one proposed action (allow / escalate / deny) with its proof, without planning."""
    _run(build_context(workspace, data_dir), "decide", action, _params(param), as_json)


def _load(ctx: Context, plan_id: str) -> PlanRecord:
    from engine.action.db import open_database
    from engine.plan_store import PlanStore

    return PlanStore(open_database(ctx.settings.audit_db_url)).get(plan_id)


@app.command()
@handles_errors
def explain(
    plan_id: Annotated[str, typer.Argument(help="A plan or decision id.")],
    action: Annotated[str | None, typer.Argument(help="One action of the plan.")] = None,
    fmt: Annotated[Literal["text", "json", "dot"], typer.Option("--format", "-f")] = "text",
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Show the proof of a plan's actions down to the source records (text, JSON or DOT)."""
    ctx = build_context(workspace, data_dir)
    graph = action_proof(_load(ctx, plan_id), action)
    if fmt == "json":
        print(graph.to_json())
    elif fmt == "dot":
        print(graph.to_dot())
    else:
        print(graph.to_text())


@app.command("why-not")
@handles_errors
def why_not(
    plan_id: Annotated[str, typer.Argument(help="A plan id.")],
    action: Annotated[str, typer.Argument(help="An action that is not in the plan.")],
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Why an action is not in a plan: failed conditions, cost difference or blocking rules."""
    ctx = build_context(workspace, data_dir)
    record = _load(ctx, plan_id)
    with ctx.store() as store:
        answer = _plane(ctx, store).why_not(record, action)
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    console.print(f"[bold]{answer.action}[/]: {answer.status.replace('_', ' ')}", highlight=False)
    if answer.cost_difference is not None:
        console.print(
            f"  a plan with it costs {answer.cost_with_action} instead of "
            f"{answer.plan_cost} (difference {answer.cost_difference})",
            highlight=False,
        )
    for f in answer.failures:
        why = {
            "missing": "no fact or rule gives it",
            "negated": "it is false because the negated atom holds",
            "comparison": "the comparison is false",
        }.get(f.kind, "not evaluated (aggregate)")
        console.print(
            f"  ✗ rule {f.rule_id} ({f.file}:{f.line}) needs {f.condition}: {why}",
            highlight=False,
        )
        if f.proof is not None:
            console.print(f.proof.to_text(), highlight=False)
    if answer.conflict is not None:
        console.print(f"  conflict: {answer.conflict.describe()}", highlight=False)
