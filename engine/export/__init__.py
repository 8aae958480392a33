"""Graph sinks: plans, actions, decisions and proofs written to an external graph (Neo4j)."""

from engine.export.neo4j import ExportSummary, Neo4jSink, workspace_links
from engine.export.rows import GraphRows, SourceLink, plan_rows

__all__ = ["ExportSummary", "GraphRows", "Neo4jSink", "SourceLink", "plan_rows", "workspace_links"]
