"""JSON documents and JSON Lines files: one record per object the iterator selects.

A ``.json`` file is parsed whole and the mapping's iterator (a JSONPath) picks the records.
Only the JSONPath subset that names a place, not a query, is supported — ``$``, ``.name``,
``['name']``, ``[*]``, ``[n]`` — because a filter or recursive descent would make a record's
position (its locator) depend on the query engine. Anything else is rejected naming the iterator.

The records are the nodes the path selects. A path ending without a wildcard that selects one
array (``$`` over a top-level array, ``$.relationships``) means its items, as RML processors do.
Every record must be a JSON object; its nested objects and arrays are kept as they are, for the
mapping step resolves dotted references (``$(address.city)``).

A ``.jsonl`` / ``.ndjson`` file (or ``format="jsonl"``) is read line by line, one object per
line, so large exports stream; its iterator must be ``$`` or absent, and a record's row is its
line number. Blank lines are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from connectors.base import LogicalSource, Record, RecordLocator, key_text
from connectors.files import ResolvedFile, checked_encoding, resolve_file, text_encoding
from engine.errors import Location, SourceError

JsonFormat = Literal["json", "jsonl"]
"""``json``: one document + JSONPath iterator; ``jsonl``: one object per line."""

_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})


@dataclass(frozen=True)
class Field:
    """``.name`` / ``['name']``: the member of an object."""

    name: str


@dataclass(frozen=True)
class Index:
    """``[n]``: the n-th (0-based) item of an array."""

    index: int


@dataclass(frozen=True)
class Wildcard:
    """``[*]``: every item of an array."""


Step = Field | Index | Wildcard

_STEP = re.compile(
    r"""\.(?P<dot>[A-Za-z_][A-Za-z0-9_\-]*)
      | \[\s*'(?P<sq>[^'\\]*)'\s*\]
      | \[\s*"(?P<dq>[^"\\]*)"\s*\]
      | \[\s*(?P<star>\*)\s*\]
      | \[\s*(?P<idx>\d+)\s*\]""",
    re.VERBOSE,
)


def parse_iterator(iterator: str) -> tuple[Step, ...]:
    """The steps of a JSONPath in the supported subset; ``SourceError`` naming it otherwise."""
    text = iterator.strip()
    if not text.startswith("$"):
        raise SourceError(f"iterator `{iterator}` must start with `$`")
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise SourceError(
                f"iterator `{iterator}` uses unsupported jsonpath at `{text[pos:]}`: "
                "only `$`, `.name`, `['name']`, `[*]` and `[n]` are supported"
            )
        groups = match.groupdict()
        if groups["star"] is not None:
            steps.append(Wildcard())
        elif groups["idx"] is not None:
            steps.append(Index(int(groups["idx"])))
        else:
            name = next(g for g in (groups["dot"], groups["sq"], groups["dq"]) if g is not None)
            steps.append(Field(name))
        pos = match.end()
    return tuple(steps)


def select(document: object, steps: tuple[Step, ...], *, iterator: str) -> list[object]:
    """The nodes ``steps`` select in ``document``, in document order (see the module docstring).

    Raises ``SourceError`` when a step finds no member / item or a wildcard meets a non-array,
    and when the path ends without a wildcard on a value that is not an array.
    """
    nodes: list[object] = [document]
    for step in steps:
        following: list[object] = []
        for node in nodes:
            following.extend(_apply(node, step, iterator=iterator))
        nodes = following
    if any(isinstance(s, Wildcard) for s in steps):
        return nodes
    (only,) = nodes
    if not isinstance(only, list):
        raise SourceError(
            f"iterator `{iterator}` points at {_kind(only)}, not an array: "
            "end it with `[*]` or point it at an array"
        )
    return list(only)


def _apply(node: object, step: Step, *, iterator: str) -> list[object]:
    if isinstance(step, Field):
        if isinstance(node, dict) and step.name in node:
            return [node[step.name]]
        raise SourceError(f"iterator `{iterator}` does not match: no member `{step.name}`")
    if not isinstance(node, list):
        raise SourceError(f"iterator `{iterator}` does not match: {_kind(node)} is not an array")
    if isinstance(step, Wildcard):
        return list(node)
    if step.index >= len(node):
        raise SourceError(
            f"iterator `{iterator}` does not match: no item {step.index} in an array of {len(node)}"
        )
    return [node[step.index]]


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return f"a {type(value).__name__} value"


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON (RFC 8259 §6) though Python's parser accepts them.
    raise ValueError(f"`{name}` is not a json number")


class JsonConnector:
    """Reads JSON documents (with a JSONPath iterator) and JSON Lines files."""

    def __init__(
        self,
        *,
        name: str,
        workspace: Path,
        path: str | None = None,
        encoding: str = "utf-8",
        format: JsonFormat | None = None,
    ) -> None:
        self.name = name
        self.workspace = workspace
        self.path = path
        self.encoding = checked_encoding(name, encoding)
        self.format = format

    def records(self, source: LogicalSource) -> Iterator[Record]:
        """Yield the objects the iterator selects (JSON) or one per line (JSON Lines)."""
        file = resolve_file(
            name=self.name, workspace=self.workspace, override=self.path, source=source
        )
        fmt = self.format or ("jsonl" if file.path.suffix.lower() in _LINES_SUFFIXES else "json")
        if fmt == "jsonl":
            if source.iterator not in (None, "$"):
                raise SourceError(
                    f"iterator `{source.iterator}` cannot apply to json lines: "
                    "each line is one record, use `$` or no iterator",
                    Location(file=file.written),
                )
            return self._lines(file, source.key)
        return self._document(file, source)

    def close(self) -> None:
        """Nothing to release: each read opens and closes its file."""

    def _document(self, file: ResolvedFile, source: LogicalSource) -> Iterator[Record]:
        iterator = source.iterator or "$"
        try:
            steps = parse_iterator(iterator)
        except SourceError as exc:
            raise SourceError(exc.message, Location(file=file.written)) from exc
        text = self._read(file)
        try:
            document = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"malformed json: {exc.msg.lower()}",
                Location(file=file.written, line=exc.lineno, column=exc.colno),
            ) from exc
        except ValueError as exc:
            raise SourceError(f"malformed json: {exc}", Location(file=file.written)) from exc
        try:
            nodes = select(document, steps, iterator=iterator)
        except SourceError as exc:
            raise SourceError(exc.message, Location(file=file.written)) from exc
        records = [self._record(file, n, node, source.key) for n, node in enumerate(nodes, 1)]
        return iter(records)

    def _lines(self, file: ResolvedFile, key: tuple[str, ...]) -> Iterator[Record]:
        try:
            handle = open(file.path, encoding=text_encoding(self.encoding))  # noqa: SIM115
        except OSError as exc:
            raise SourceError(
                f"cannot read file `{file.written}`: {exc.strerror or exc}",
                Location(file=file.written),
            ) from exc
        with handle:
            line_no = 0
            try:
                for line_no, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        value = json.loads(line, parse_constant=_reject_constant)
                    except json.JSONDecodeError as exc:
                        raise SourceError(
                            f"malformed json line: {exc.msg.lower()}",
                            Location(file=file.written, line=line_no, column=exc.colno),
                        ) from exc
                    except ValueError as exc:
                        raise SourceError(
                            f"malformed json line: {exc}", Location(file=file.written, line=line_no)
                        ) from exc
                    yield self._record(file, line_no, value, key)
            except UnicodeDecodeError as exc:
                raise SourceError(
                    f"file is not valid `{self.encoding}` text: {exc.reason}",
                    Location(file=file.written, line=line_no + 1),
                ) from exc

    def _read(self, file: ResolvedFile) -> str:
        try:
            raw = file.path.read_bytes()
        except OSError as exc:
            raise SourceError(
                f"cannot read file `{file.written}`: {exc.strerror or exc}",
                Location(file=file.written),
            ) from exc
        try:
            return raw.decode(text_encoding(self.encoding))
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SourceError(
                f"file is not valid `{self.encoding}` text: {exc.reason}",
                Location(file=file.written, line=line),
            ) from exc

    def _record(self, file: ResolvedFile, row: int, value: object, key: tuple[str, ...]) -> Record:
        if not isinstance(value, dict):
            raise SourceError(
                f"record is {_kind(value)}, expected a json object",
                Location(file=file.written, record=f"row={row}"),
            )
        locator = RecordLocator(
            source=self.name,
            container=file.written,
            row=row,
            key=key_text([(k, _lookup(value, k)) for k in key]) if key else None,
        )
        return Record(locator=locator, values=value)


def _lookup(value: Mapping[str, object], path: str) -> object:
    """A dotted reference into nested objects (``address.id``); ``None`` if any part is absent."""
    node: object = value
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
