"""What the file connectors share: which file a source reads, and how to open its text."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from connectors.base import LogicalSource
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


def text_encoding(encoding: str) -> str:
    """The codec to open text with: ``utf-8`` becomes ``utf-8-sig`` so a leading BOM is dropped."""
    # Spreadsheet exports often start with a byte-order mark that would corrupt the first
    # column name; "utf-8-sig" reads files with and without it.
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def checked_encoding(name: str, encoding: str) -> str:
    """``encoding`` if Python knows it; a ConfigError naming the source otherwise."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(f"unknown encoding `{encoding}` for source `{name}`") from exc
    return encoding
