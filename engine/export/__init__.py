"""Graph sinks: plans, actions, decisions and proofs written to an external graph (Neo4j)."""

from engine.export.neo4j import (
    ExportSummary,
    Neo4jSink,
    export_after_plan,
    workspace_links,
    workspace_sink,
)
from engine.export.rows import GraphRows, SourceLink, plan_rows

__all__ = [
    "ExportSummary",
    "GraphRows",
    "Neo4jSink",
    "SourceLink",
    "export_after_plan",
    "plan_rows",
    "workspace_links",
    "workspace_sink",
]
