"""One error hierarchy for all of Warrant.

Every error carries a stable ``code`` (for programs), a one-line lowercase ``message``
(for people, with user input in backticks) and a ``location`` naming where the problem is:
``file:line:col``, a record (``data/vendors.csv#row=12``), a field, a shape or a rule.

::

    WarrantError
    ├── ConfigError          warrant.toml, settings, environment references
    ├── SourceError          a connector could not read its source
    ├── MappingError         a YARRRML mapping is malformed or unsupported, or lacks a field
    ├── ShapesError          a shapes file does not parse or is not valid SHACL
    ├── OntologyError        the ontology does not load, is inconsistent or unsatisfiable
    ├── StoreError           the knowledge-graph store failed
    ├── QueryError           a SPARQL query is malformed, updates, or exceeds a limit
    ├── RuleError            a rule file does not parse or does not check
    ├── ParameterError       a request parameter is unknown or of the wrong type
    ├── SolveError           the solver failed, timed out, or found no plan
    ├── NotFoundError        a plan, action, source or record id is unknown
    ├── AuthError            missing or wrong credentials / missing role
    ├── ConflictError        a state transition is not allowed (approve twice …)
    └── DispatchError        an executor failed

Errors chain with ``raise ... from`` so the cause is kept for logs, never shown as a stack
trace to a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file position, a record, a field or a shape; any may be absent."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    record: str | None = None
    field: str | None = None
    shape: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            pos = self.file
            if self.line is not None:
                pos += f":{self.line}"
                if self.column is not None:
                    pos += f":{self.column}"
            parts.append(pos)
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field is not None:
            parts.append(f"field `{self.field}`")
        if self.shape is not None:
            parts.append(f"shape <{self.shape}>")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The non-empty parts, for JSON error bodies."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class WarrantError(Exception):
    """Base of every error Warrant raises on purpose."""

    message: str
    location: Location | None = None
    details: dict[str, Any] = field(default_factory=dict)
    code: str = "warrant_error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        loc = str(self.location) if self.location else ""
        return f"{loc}: {self.message}" if loc else self.message

    def as_dict(self) -> dict[str, Any]:
        """The wire form ``{code, message, details}`` used by the API and ``--json``."""
        details = dict(self.details)
        if self.location is not None:
            details["location"] = self.location.as_dict()
        return {"code": self.code, "message": self.message, "details": details}


@dataclass
class ConfigError(WarrantError):
    """warrant.toml, settings or an environment reference is wrong."""

    code: str = "config_error"


@dataclass
class SourceError(WarrantError):
    """A connector could not read its source (missing file, malformed CSV/JSON, unreachable DB)."""

    code: str = "source_error"


@dataclass
class MappingError(WarrantError):
    """A mapping file is malformed or uses unsupported YARRRML, or a record lacks a mapped field."""

    code: str = "mapping_error"


@dataclass
class ShapesError(WarrantError):
    """A shapes file does not parse or is not usable SHACL."""

    code: str = "shapes_error"


@dataclass
class OntologyError(WarrantError):
    """The ontology does not load, is inconsistent, or has unsatisfiable classes."""

    code: str = "ontology_error"


@dataclass
class StoreError(WarrantError):
    """The knowledge-graph store failed; nothing was half-written."""

    code: str = "store_error"


@dataclass
class QueryError(WarrantError):
    """A SPARQL request is malformed, tries to update, or exceeds a limit."""

    code: str = "query_error"


@dataclass
class RuleError(WarrantError):
    """A rule file does not parse or does not check (unsafe variable, unknown predicate …)."""

    code: str = "rule_error"


@dataclass
class ParameterError(WarrantError):
    """A request parameter is unknown or of the wrong type."""

    code: str = "parameter_error"


@dataclass
class SolveError(WarrantError):
    """The solver failed, ran past its time limit, or found no plan."""

    code: str = "solve_error"


@dataclass
class NotFoundError(WarrantError):
    """A plan, action, source, batch or record id is unknown."""

    code: str = "not_found"


@dataclass
class AuthError(WarrantError):
    """Credentials are missing or wrong (401), or the principal lacks the role (403)."""

    code: str = "unauthenticated"


@dataclass
class ConflictError(WarrantError):
    """A state transition is not allowed: approving twice, approving what was never escalated."""

    code: str = "conflict"


@dataclass
class DispatchError(WarrantError):
    """An executor failed or is unavailable."""

    code: str = "dispatch_error"
