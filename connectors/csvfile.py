"""CSV files: one record per data row, values as strings, keyed by the header.

The header row names the fields; every later row must have exactly as many fields (a short or
long row is malformed, not silently padded or truncated, because a shifted column would map a
value to the wrong property). Quoting follows RFC 4180 in ``csv`` strict mode, so an unterminated
quote or stray characters after a closing quote are errors with ``file:line``. Empty cells are
``""``, which the mapping step treats as null. Fully blank lines are skipped and not counted.

Also home to the helpers the file connectors share (:func:`resolve_file`, :func:`key_text`,
:func:`text_encoding`),
until they move to ``connectors.base``.

>>> # CsvConnector(name="vendors", workspace=Path("."))
>>> # list(c.records(LogicalSource("csv", path="data/vendors.csv")))[0].locator
>>> # RecordLocator(source='vendors', container='data/vendors.csv', row=1, key=None)
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from connectors.base import LogicalSource, Record, RecordLocator
from engine.errors import ConfigError, Location, SourceError


@dataclass(frozen=True)
class ResolvedFile:
    """A source file: ``written`` is the path as configured (the locator's container)."""

    written: str
    path: Path


def resolve_file(
    *, name: str, workspace: Path, override: str | None, source: LogicalSource
) -> ResolvedFile:
    """The file a file connector reads: the warrant.toml ``path`` if set, else the mapping's.

    Relative paths are resolved against the workspace; the file must exist now, so a missing
    file is reported before any record is asked for.
    """
    written = override if override is not None else source.path
    if written is None:
        raise SourceError(
            f"source `{name}` has no file path: set `path` in warrant.toml or in the mapping"
        )
    path = Path(written)
    if not path.is_absolute():
        path = workspace / path
    if not path.is_file():
        what = "is not a file" if path.exists() else "not found"
        raise SourceError(f"file `{written}` of source `{name}` {what}", Location(file=written))
    return ResolvedFile(written=written, path=path)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("&", "%26").replace("=", "%3D")


def key_text(pairs: Sequence[tuple[str, object]]) -> str | None:
    """``name=value`` pairs joined by ``&``, or ``None`` if a key value is null or empty.

    ``%``, ``&`` and ``=`` inside names and values are percent-encoded so the key splits back
    unambiguously. A record whose key is missing is identified by its row instead; the shapes
    then report the missing identifier.
    """
    parts: list[str] = []
    for field_name, value in pairs:
        if value is None or value == "":
            return None
        parts.append(f"{_escape(field_name)}={_escape(_scalar_text(value))}")
    return "&".join(parts)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def text_encoding(encoding: str) -> str:
    """The codec to open text with: ``utf-8`` becomes ``utf-8-sig`` so a leading BOM is dropped."""
    # Spreadsheet exports often start with a byte-order mark that would corrupt the first
    # column name; "utf-8-sig" reads files with and without it.
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


class CsvConnector:
    """Reads CSV files named by the mapping (or by warrant.toml's ``path``) row by row."""

    def __init__(
        self,
        *,
        name: str,
        workspace: Path,
        path: str | None = None,
        delimiter: str = ",",
        encoding: str = "utf-8",
    ) -> None:
        if len(delimiter) != 1:
            raise ConfigError(
                f"csv delimiter `{delimiter}` of source `{name}` is not one character"
            )
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise ConfigError(f"unknown encoding `{encoding}` for source `{name}`") from exc
        self.name = name
        self.workspace = workspace
        self.path = path
        self.delimiter = delimiter
        self.encoding = encoding

    def records(self, source: LogicalSource) -> Iterator[Record]:
        """Yield one record per data row; the header is checked before the first row."""
        file = resolve_file(
            name=self.name, workspace=self.workspace, override=self.path, source=source
        )
        header = self._header(file)
        missing = [k for k in source.key if k not in header]
        if missing:
            raise SourceError(
                f"key field `{missing[0]}` is not a column of the header",
                Location(file=file.written, line=1),
            )
        return self._rows(file, header, source.key)

    def close(self) -> None:
        """Nothing to release: each read opens and closes its file."""

    def _header(self, file: ResolvedFile) -> tuple[str, ...]:
        with self._open(file) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            try:
                for row in reader:
                    if row:
                        return self._check_header(file, row, reader.line_num)
            except csv.Error as exc:
                raise self._malformed(file, reader.line_num, exc) from exc
            except UnicodeDecodeError as exc:
                raise self._undecodable(file, reader.line_num, exc) from exc
        raise SourceError("empty csv file: expected a header row", Location(file=file.written))

    def _check_header(self, file: ResolvedFile, row: list[str], line: int) -> tuple[str, ...]:
        seen: set[str] = set()
        for column in row:
            if column == "":
                raise SourceError(
                    "empty column name in header", Location(file=file.written, line=line)
                )
            if column in seen:
                raise SourceError(
                    f"duplicate column `{column}` in header", Location(file=file.written, line=line)
                )
            seen.add(column)
        return tuple(row)

    def _rows(
        self, file: ResolvedFile, header: tuple[str, ...], key: tuple[str, ...]
    ) -> Iterator[Record]:
        with self._open(file) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            number = 0
            started = False
            last_line = 0
            try:
                for row in reader:
                    first_line, last_line = last_line + 1, reader.line_num
                    if not row:
                        continue
                    if not started:
                        started = True  # the header, already checked
                        continue
                    number += 1
                    if len(row) != len(header):
                        raise SourceError(
                            f"row has {len(row)} fields, the header has {len(header)}",
                            Location(file=file.written, line=first_line, record=f"row={number}"),
                        )
                    values = dict(zip(header, row, strict=True))
                    locator = RecordLocator(
                        source=self.name,
                        container=file.written,
                        row=number,
                        key=key_text([(k, values[k]) for k in key]) if key else None,
                    )
                    yield Record(locator=locator, values=values)
            except csv.Error as exc:
                raise self._malformed(file, last_line + 1, exc) from exc
            except UnicodeDecodeError as exc:
                raise self._undecodable(file, reader.line_num, exc) from exc

    def _open(self, file: ResolvedFile) -> TextIO:
        try:
            return open(file.path, encoding=text_encoding(self.encoding), newline="")
        except OSError as exc:
            raise SourceError(
                f"cannot read file `{file.written}`: {exc.strerror or exc}",
                Location(file=file.written),
            ) from exc

    @staticmethod
    def _malformed(file: ResolvedFile, line: int, exc: csv.Error) -> SourceError:
        return SourceError(f"malformed csv: {exc}", Location(file=file.written, line=line))

    def _undecodable(self, file: ResolvedFile, line: int, exc: UnicodeDecodeError) -> SourceError:
        return SourceError(
            f"file is not valid `{self.encoding}` text after line {line}: {exc.reason}",
            Location(file=file.written, line=line + 1),
        )
