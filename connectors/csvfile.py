"""CSV files: one record per data row, values as strings, keyed by the header.

The header row names the fields; every later row must have exactly as many fields (a short or
long row is malformed, not silently padded or truncated, because a shifted column would map a
value to the wrong property). Quoting follows RFC 4180 in ``csv`` strict mode, so an unterminated
quote or stray characters after a closing quote are errors with ``file:line``. Empty cells are
``""``, which the mapping step treats as null. Fully blank lines are skipped and not counted.

>>> # CsvConnector(name="vendors", workspace=Path("."))
>>> # list(c.records(LogicalSource("csv", path="data/vendors.csv")))[0].locator
>>> # RecordLocator(source='vendors', container='data/vendors.csv', row=1, key=None)
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from connectors.base import LogicalSource, Record, RecordLocator, key_text
from connectors.files import ResolvedFile, checked_encoding, resolve_file, text_encoding
from engine.errors import ConfigError, Location, SourceError


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
        self.name = name
        self.workspace = workspace
        self.path = path
        self.delimiter = delimiter
        self.encoding = checked_encoding(name, encoding)

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
