"""The Neo4j sink: plans, actions, decisions and proofs merged into a property graph.

The graph model is in :mod:`engine.export.rows`. Writing is idempotent and batched: every
node is ``MERGE``d on its ``id`` and its properties ``SET``, every relationship ``MERGE``d
between merged nodes, each statement over ``UNWIND $rows`` in batches of ``batch_size``.
Writing the same plans twice therefore creates no node and no relationship.

Facts whose source record came from a Neo4j source are linked to the node they came from:
``(:Fact)-[:FROM_RECORD]->(n)`` where ``n`` (with the source's ``label`` if configured) has
the record's key property (``key = ["id"]`` → ``n.id``). Property names and labels come from
``warrant.toml``; they are checked to be plain identifiers before they reach query text, and
every value travels as a parameter.

Statements run as auto-commit queries: FalkorDB's Bolt listener ignores explicit
transactions (see docs/graph-connectors.md), and each UNWIND batch is one transaction on
Neo4j. A failure mid-export leaves a partial graph that the next run completes, because
every write is a MERGE.

>>> # with Neo4jSink(url="bolt://127.0.0.1:7687") as sink: sink.export([record])
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import neo4j
from neo4j import exceptions as neo_exc

from connectors.bolt import BoltDialect, bolt_params, shared_drivers
from engine.errors import ConfigError, DispatchError
from engine.export.rows import GraphRows, Row, SourceLink, plan_rows
from engine.planning import PlanRecord
from engine.workspace import Workspace

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FALKOR_MESSAGE_BYTES = 3000
"""What one query may carry for FalkorDB, measured as JSON text: its Bolt listener (4.16)
turns parameters into query text and drops the connection (or crashes) once that text grows
past about 4 KB, so batches stay well below it."""

_NODES: tuple[tuple[str, str], ...] = (
    ("Plan", "plans"),
    ("Action", "actions"),
    ("RuleInstance", "rules"),
    ("Fact", "facts"),
)
_EDGES: tuple[tuple[str, str, str, str, bool], ...] = (
    # (from label, relationship type, to label, rows attribute, has an `atom` property)
    ("Plan", "HAS_ACTION", "Action", "has_action", False),
    ("Action", "AFTER", "Action", "after", False),
    ("Action", "SUPPORTED_BY", "RuleInstance", "supported_by", False),
    ("Action", "SUPPORTED_BY", "Fact", "supported_by", False),
    ("Action", "DECIDED_BY", "RuleInstance", "decided_by", True),
    ("Action", "DECIDED_BY", "Fact", "decided_by", True),
    ("Plan", "PROVES", "RuleInstance", "proves", True),
    ("Plan", "PROVES", "Fact", "proves", True),
    ("RuleInstance", "USES", "RuleInstance", "uses_rule", False),
    ("RuleInstance", "USES", "Fact", "uses_fact", False),
)


@dataclass(frozen=True)
class ExportSummary:
    """What one export wrote: rows sent and what the server created (0 on a repeat)."""

    plans: int
    actions: int
    rule_instances: int
    facts: int
    links: int
    nodes_created: int
    relationships_created: int

    def as_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return dict(self.__dict__)


def _identifier(text: str, what: str) -> str:
    if not _IDENT.match(text):
        raise ConfigError(f"{what} `{text}` is not a plain identifier (letters, digits, `_`)")
    return text


class Neo4jSink:
    """Writes plans and their proofs to one Bolt server (Neo4j 5, or FalkorDB)."""

    def __init__(
        self,
        *,
        url: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        batch_size: int = 500,
        links: Mapping[str, SourceLink] | None = None,
        timeout_s: float = 30.0,
        dialect: BoltDialect = "neo4j",
    ) -> None:
        self.url = url
        self.dialect: BoltDialect = dialect
        self.database = database
        self.batch_size = max(1, batch_size)
        self.links = dict(links or {})
        for name, link in self.links.items():
            for key in link.key:
                _identifier(key, f"key field of source `{name}`")
            if link.label is not None:
                _identifier(link.label, f"label of source `{name}`")
        try:
            self._driver = shared_drivers().get(
                url, user=user, password=password, timeout_s=timeout_s
            )
        except (ValueError, neo_exc.ConfigurationError) as exc:
            raise ConfigError(f"invalid bolt url `{url}` for the neo4j export: {exc}") from exc

    def __enter__(self) -> Neo4jSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: the driver is shared and long-lived (see ``connectors.bolt``)."""

    def export(self, records: Sequence[PlanRecord]) -> ExportSummary:
        """Merge every plan with its actions, decisions and proofs; idempotent."""
        rows = plan_rows(records, links=self.links)
        created = [0, 0]
        try:
            with self._driver.session(database=self.database) as session:
                for label, attr in _NODES:
                    self._nodes(session, label, list(getattr(rows, attr).values()), created)
                for src, rel, dst, attr, has_atom in _EDGES:
                    edges = [
                        r for r in getattr(rows, attr).values() if self._kind(rows, r["to"]) == dst
                    ]
                    self._edges(session, src, rel, dst, edges, has_atom, created)
                self._links(session, rows, created)
        except neo_exc.Neo4jError as exc:
            raise DispatchError(
                f"the neo4j export to `{self.url}` failed: {exc.code or 'error'}: "
                f"{(exc.message or '').strip()[:200]}"
            ) from exc
        except (neo_exc.DriverError, OSError) as exc:
            raise DispatchError(
                f"the neo4j export could not reach `{self.url}`: {str(exc).splitlines()[0][:200]}"
            ) from exc
        return ExportSummary(
            plans=len(rows.plans),
            actions=len(rows.actions),
            rule_instances=len(rows.rules),
            facts=len(rows.facts),
            links=len(rows.links),
            nodes_created=created[0],
            relationships_created=created[1],
        )

    @staticmethod
    def _kind(rows: GraphRows, node_id: object) -> str:
        key = str(node_id)
        if key in rows.rules:
            return "RuleInstance"
        if key in rows.facts:
            return "Fact"
        if key in rows.actions:
            return "Action"
        return "Plan"

    def _run(self, session: neo4j.Session, query: str, rows: list[Row], created: list[int]) -> None:
        for batch in self._batches(query, rows):
            summary = session.run(query, {"rows": batch}).consume()
            created[0] += summary.counters.nodes_created
            created[1] += summary.counters.relationships_created

    def _batches(self, query: str, rows: list[Row]) -> Iterator[list[Any]]:
        """Batches of at most ``batch_size`` rows; for FalkorDB also of at most
        ``_FALKOR_MESSAGE_BYTES`` of parameter text (see there)."""
        budget = _FALKOR_MESSAGE_BYTES - len(query.encode()) if self.dialect == "falkordb" else 0
        batch: list[Any] = []
        size = 0
        for row in rows:
            value = bolt_params(row, dialect=self.dialect)
            cost = len(json.dumps(value).encode()) + 16 if budget else 0
            if budget and cost > budget:
                raise DispatchError(
                    f"node `{row.get('id', row.get('from'))}` is too large ({cost} bytes) for "
                    f"one falkordb bolt message ({_FALKOR_MESSAGE_BYTES} bytes)"
                )
            if batch and (len(batch) >= self.batch_size or (budget and size + cost > budget)):
                yield batch
                batch, size = [], 0
            batch.append(value)
            size += cost
        if batch:
            yield batch

    def _nodes(
        self, session: neo4j.Session, label: str, rows: list[Row], created: list[int]
    ) -> None:
        props = [{"id": r["id"], "props": {k: v for k, v in r.items() if k != "id"}} for r in rows]
        query = f"UNWIND $rows AS row MERGE (n:{label} {{id: row.id}}) SET n += row.props"
        self._run(session, query, props, created)

    def _edges(
        self,
        session: neo4j.Session,
        src: str,
        rel: str,
        dst: str,
        rows: list[Row],
        has_atom: bool,
        created: list[int],
    ) -> None:
        if not rows:
            return
        props = " {atom: row.atom}" if has_atom else ""
        query = (
            f"UNWIND $rows AS row MATCH (a:{src} {{id: row.from}}) MATCH (b:{dst} {{id: row.to}}) "
            f"MERGE (a)-[:{rel}{props}]->(b)"
        )
        self._run(session, query, rows, created)

    def _links(self, session: neo4j.Session, rows: GraphRows, created: list[int]) -> None:
        groups: dict[tuple[str, str], list[Row]] = {}
        for (_, label, field_name, _value), row in sorted(rows.links.items()):
            groups.setdefault((label, field_name), []).append(row)
        for (label, field_name), group in groups.items():
            target = f"(n:{label})" if label else "(n)"
            query = (
                f"UNWIND $rows AS row MATCH (f:Fact {{id: row.from}}) MATCH {target} "
                f"WHERE n.{field_name} = row.value MERGE (f)-[:FROM_RECORD]->(n)"
            )
            self._run(session, query, group, created)


def workspace_links(sources: Mapping[str, object]) -> dict[str, SourceLink]:
    """The link settings of every ``neo4j`` source of a workspace (its ``key`` and ``label``)."""
    out: dict[str, SourceLink] = {}
    for name, cfg in sources.items():
        if getattr(cfg, "type", None) != "neo4j":
            continue
        key = tuple(getattr(cfg, "key", ()) or ())
        label = getattr(cfg, "label", None)
        out[name] = SourceLink(key=key, label=label if isinstance(label, str) else None)
    return out



def workspace_sink(workspace: Workspace) -> Neo4jSink | None:
    """The sink of ``[export.neo4j]``, or None when the workspace configures none."""
    target = workspace.config.export.neo4j
    if target is None:
        return None
    return Neo4jSink(
        url=target.url,
        user=target.user,
        password=target.password,
        database=target.database,
        batch_size=target.batch_size,
        timeout_s=target.timeout_s,
        dialect=target.dialect,
        links=workspace_links(workspace.config.sources),
    )


def export_after_plan(workspace: Workspace, record: PlanRecord) -> ExportSummary | None:
    """Export one new plan when ``[export.neo4j] after_plan = true`` (the after-plan hook that
    ``warrant plan`` and the API call once a plan is stored); None when not configured."""
    target = workspace.config.export.neo4j
    if target is None or not target.after_plan:
        return None
    sink = workspace_sink(workspace)
    assert sink is not None
    with sink:
        return sink.export([record])
