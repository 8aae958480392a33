"""A workspace: a folder with ``warrant.toml``, ``ontology/``, ``rules/`` and mapping files.

``warrant.toml`` is validated by pydantic models that reject unknown keys, so a typo in a
source table is an error naming the key, not a silently ignored setting. Values may reference
environment variables as ``${NAME}`` or ``${NAME:-default}`` (secrets stay out of the file); a
missing variable without a default is a ``ConfigError`` naming the key that needed it, and
secrets are never echoed back.

An empty folder is a valid workspace: no sources, no shapes, no rules.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import ConfigError, Location

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

SOURCE_GRAPH_PREFIX = "urn:warrant:graph:source:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SourceBase(_Strict):
    graph: str | None = None
    shapes: tuple[str, ...] = ()
    description: str | None = None


class FileSourceConfig(_SourceBase):
    """A CSV or JSON / JSON Lines file mapped by a YARRRML mapping."""

    type: Literal["csv", "json"]
    mapping: str
    path: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    format: Literal["json", "jsonl"] | None = None


class SqlSourceConfig(_SourceBase):
    """A SQL database (SQLAlchemy URL) whose tables / queries the mapping names."""

    type: Literal["sql"]
    mapping: str
    url: str


class RdfSourceConfig(_SourceBase):
    """An RDF file (Turtle, N-Triples, JSON-LD) loaded as is, no mapping."""

    type: Literal["rdf"]
    path: str
    format: str | None = None


class Neo4jSourceConfig(_SourceBase):
    """A Neo4j (Bolt) database whose Cypher queries the mapping names.

    ``user`` / ``password`` usually come from the environment (``password = "${NEO4J_PASSWORD}"``);
    ``params`` are Cypher query parameters; ``key`` names the columns that identify a row
    (else the row's node / relationship element id); rows are read ``page_size`` at a time.
    """

    type: Literal["neo4j"]
    mapping: str
    url: str
    user: str | None = None
    password: str | None = Field(default=None, repr=False)
    database: str | None = None
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    key: tuple[str, ...] = ()
    label: str | None = None  # the label of the rows' nodes: `warrant export neo4j` links to them
    dialect: Literal["neo4j", "falkordb"] = "neo4j"
    page_size: int = Field(default=1000, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0)


class SparqlSourceConfig(_SourceBase):
    """A remote SPARQL 1.1 endpoint queried with CONSTRUCT (or SELECT + mapping).

    Without ``mapping``, ``query`` is a CONSTRUCT whose triples are the data (grouped per
    subject like an ``rdf`` source); with a mapping, the mapping's SELECT query gives rows.
    ``page_size`` > 0 pages the query with ``LIMIT`` / ``OFFSET`` (it must then ``ORDER BY``).
    """

    type: Literal["sparql"]
    endpoint: str
    query: str | None = None
    mapping: str | None = None
    user: str | None = None
    password: str | None = Field(default=None, repr=False)
    page_size: int = Field(default=0, ge=0)
    timeout_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0)


SourceConfig = Annotated[
    FileSourceConfig | SqlSourceConfig | RdfSourceConfig | Neo4jSourceConfig | SparqlSourceConfig,
    Field(discriminator="type"),
]


class ExecutorConfig(_Strict):
    """How actions of one type are dispatched (see engine.action.executors)."""

    type: Literal["webhook", "log", "python"]
    url: str | None = None
    secret: str | None = None
    timeout_s: float = 10.0
    entry_point: str | None = None
    path: str | None = None


class ProjectConfig(_Strict):
    """The ``[project]`` table."""

    name: str = "warrant"
    prefixes: dict[str, str] = Field(default_factory=dict)


class OntologyConfig(_Strict):
    """Which Turtle files make up the ontology (default: every ``ontology/*.ttl``)."""

    files: tuple[str, ...] | None = None


class RulesConfig(_Strict):
    """Where the rules live and how the solver runs."""

    directory: str = "rules"
    time_limit_s: float = 20.0
    now: str | None = None  # fixed "today" (ISO date) for replayable examples; default: clock


class StoreConfig(_Strict):
    """The ``[store]`` table: the embedded Oxigraph (default) or a remote SPARQL 1.1 store.

    For ``type = "sparql"``: ``query_url`` and ``update_url`` (SPARQL 1.1 Protocol), optional
    ``store_url`` (Graph Store Protocol), credentials (from the environment), and ``union``:
    how to query the union of named graphs (see ``engine.store.remote``).
    """

    type: Literal["oxigraph", "sparql"] = "oxigraph"
    query_url: str | None = None
    update_url: str | None = None
    store_url: str | None = None
    user: str | None = None
    password: str | None = Field(default=None, repr=False)
    timeout_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0)
    union: Literal["parameter", "native"] = "parameter"


class Neo4jExportConfig(_Strict):
    """``[export.neo4j]``: where ``warrant export neo4j`` writes plans and proofs."""

    url: str
    user: str | None = None
    password: str | None = Field(default=None, repr=False)
    database: str | None = None
    batch_size: int = Field(default=500, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    after_plan: bool = False  # export each plan as it is made (`warrant plan`, the API)
    dialect: Literal["neo4j", "falkordb"] = "neo4j"


class ExportConfig(_Strict):
    """The ``[export]`` table: graph sinks."""

    neo4j: Neo4jExportConfig | None = None


class WorkspaceConfig(_Strict):
    """The whole of ``warrant.toml``."""

    project: ProjectConfig = Field(default_factory=ProjectConfig)
    ontology: OntologyConfig = Field(default_factory=OntologyConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    executors: dict[str, ExecutorConfig] = Field(default_factory=dict)
    store: StoreConfig = Field(default_factory=StoreConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)


def _interpolate(value: Any, env: Mapping[str, str], where: str, file: str) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name not in env and default is not None:
                return default
            if name not in env:
                raise ConfigError(
                    f"environment variable `{name}` is not set (needed by `{where}`)",
                    location=Location(file=file, field=where),
                )
            return env[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {
            k: _interpolate(v, env, f"{where}.{k}" if where else k, file) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(v, env, f"{where}[{i}]", file) for i, v in enumerate(value)]
    return value


class Workspace:
    """A loaded workspace: its root folder and validated configuration."""

    def __init__(self, root: Path, config: WorkspaceConfig) -> None:
        self.root = root
        self.config = config

    @classmethod
    def load(cls, root: Path, *, env: Mapping[str, str] | None = None) -> Workspace:
        """Read ``root/warrant.toml`` (absent → an empty workspace)."""
        root = root.resolve()
        if not root.is_dir():
            raise ConfigError(f"workspace `{root}` is not a directory")
        path = root / "warrant.toml"
        if not path.exists():
            return cls(root, WorkspaceConfig())
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            # Python 3.11's TOMLDecodeError has the position only in its message.
            pos = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            line, col = (int(pos.group(1)), int(pos.group(2))) if pos else (None, None)
            raise ConfigError(
                f"malformed toml: {str(exc).split(' (at line')[0]}",
                location=Location(file=str(path), line=line, column=col),
            ) from exc
        data = _interpolate(raw, os.environ if env is None else env, "", str(path))
        try:
            config = WorkspaceConfig.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"{first['msg'].lower()} at `{where}`",
                location=Location(file=str(path), field=where),
                details={"errors": len(exc.errors())},
            ) from exc
        return cls(root, config)

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the workspace root."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    def ontology_files(self) -> list[Path]:
        """The ontology's Turtle files (configured, or every ``ontology/*.ttl``)."""
        if self.config.ontology.files is not None:
            return [self.resolve(f) for f in self.config.ontology.files]
        folder = self.root / "ontology"
        return sorted(folder.glob("*.ttl")) if folder.is_dir() else []

    def rules_dir(self) -> Path:
        """The folder of ``*.lp`` rule files."""
        return self.resolve(self.config.rules.directory)

    def source_graph(self, name: str) -> str:
        """The named graph IRI of a source (configured, or ``urn:warrant:graph:source:NAME``)."""
        src = self.source(name)
        return src.graph or f"{SOURCE_GRAPH_PREFIX}{name}"

    def source(self, name: str) -> SourceConfig:
        """One source's configuration; unknown names list the known ones."""
        try:
            return self.config.sources[name]
        except KeyError:
            from engine.errors import NotFoundError

            known = ", ".join(f"`{n}`" for n in self.config.sources) or "none"
            raise NotFoundError(f"unknown source `{name}`; known sources: {known}") from None
