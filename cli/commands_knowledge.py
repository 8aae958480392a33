"""Knowledge-plane commands: ingest, quarantine, query, check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.context import build_context
from cli.main import app, handles_errors
from cli.options import DataDirOpt, JsonOpt, WorkspaceOpt
from engine.knowledge.ingest import IngestSummary
from engine.knowledge.quarantine import list_quarantine

console = Console()


@app.command()
@handles_errors
def ingest(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to ingest (default: all).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-gate even if unchanged.")] = False,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read sources, map them to RDF, gate them with SHACL and store them with provenance."""
    ctx = build_context(workspace, data_dir)
    from engine.action.backoff import SystemClock
    from engine.action.db import open_database
    from engine.service import WarrantService

    ctx.settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    engine = open_database(ctx.settings.audit_db_url)
    with ctx.store() as store:
        # through the service, so every batch and quarantine is audited
        service = WarrantService.open(ctx.workspace, store, engine=engine, clock=SystemClock())
        with Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("ingesting", total=None)
            try:
                summaries = service.ingest(
                    sources or None,
                    actor="cli",
                    force=force,
                    on_source=lambda name: progress.update(task, description=f"ingesting {name}"),
                )
            finally:
                service.close()
    if as_json:
        print(json.dumps({"sources": [s.as_dict() for s in summaries]}, indent=2))
        return
    _print_summaries(summaries)


def _print_summaries(summaries: list[IngestSummary]) -> None:
    table = Table(title="ingested", title_justify="left")
    for col in ("source", "records", "added", "removed", "quarantined", "warnings", "batch"):
        table.add_column(col, justify="right" if col not in ("source", "batch") else "left")
    for s in summaries:
        table.add_row(
            s.source,
            str(s.records),
            str(s.added),
            str(s.removed),
            f"[red]{s.quarantined}[/]" if s.quarantined else "0",
            f"[yellow]{s.warnings}[/]" if s.warnings else "0",
            "unchanged" if s.unchanged else (s.batch_id or ""),
        )
    console.print(table)
    for s in summaries:
        for q in s.quarantine:
            reasons = "; ".join(str(r) for r in q["reasons"])  # type: ignore[attr-defined]
            console.print(
                f"[red]quarantined[/] {s.source} {q['record']}: {reasons}", highlight=False
            )


@app.command()
@handles_errors
def quarantine(
    source: Annotated[str | None, typer.Argument(help="Only this source.")] = None,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List quarantined records with the SHACL results that rejected them."""
    ctx = build_context(workspace, data_dir)
    with ctx.store(read_only=True) as store:
        entries = list_quarantine(store, source=source)
    if as_json:
        print(json.dumps({"quarantine": [e.as_dict() for e in entries]}, indent=2))
        return
    if not entries:
        console.print("no quarantined records")
        return
    from engine.binding.prefixes import PrefixMap

    short = PrefixMap.standard(ctx.workspace.config.project.prefixes).compact
    for e in entries:
        console.print(f"[bold]{e.source}[/] {e.record}", highlight=False)
        for r in e.reasons:
            where = f" {short(r['path'])}" if r["path"] else ""
            value = f" = `{short(r['value'])}`" if r["value"] else ""
            console.print(
                f"   [red]{r['severity']}[/] {short(r['focus_node'])}{where}{value}: "
                f"{r['message']}",
                highlight=False,
            )


Format = Literal["table", "json", "csv", "tsv", "xml", "turtle", "ntriples"]


@app.command()
@handles_errors
def query(
    sparql: Annotated[str, typer.Argument(help="A SPARQL 1.1 query (or @file.rq).")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table | json | csv | tsv | xml")
    ] = "table",
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run a SPARQL query over the knowledge graph (the union of all named graphs)."""
    ctx = build_context(workspace, data_dir)
    if sparql.startswith("@"):
        sparql = Path(sparql[1:]).read_text(encoding="utf-8")
    with ctx.store(read_only=True) as store:
        result = store.query(sparql, use_default_graph_as_union=True)
        if isinstance(result, ox.QuerySolutions) and fmt == "table":
            _print_table(result)
        elif isinstance(result, ox.QueryBoolean) and fmt == "table":
            console.print("true" if bool(result) else "false")
        elif isinstance(result, ox.QueryTriples):
            rdf_fmt = ox.RdfFormat.TURTLE if fmt in ("table", "turtle") else ox.RdfFormat.N_TRIPLES
            out = result.serialize(format=rdf_fmt)
            print(out.decode() if out else "", end="")
        else:
            formats = {
                "json": ox.QueryResultsFormat.JSON,
                "csv": ox.QueryResultsFormat.CSV,
                "tsv": ox.QueryResultsFormat.TSV,
                "xml": ox.QueryResultsFormat.XML,
            }
            if fmt not in formats:
                raise typer.BadParameter(f"unknown format `{fmt}`", param_hint="--format")
            out = result.serialize(format=formats[fmt])
            print(out.decode() if out else "", end="")


def _print_table(result: ox.QuerySolutions) -> None:
    names = [v.value for v in result.variables]
    table = Table(*names)
    n = 0
    for row in result:
        table.add_row(*(_show(row[name]) for name in names))
        n += 1
    console.print(table)
    console.print(f"[dim]{n} row(s)[/]")


def _show(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return term.value
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)
