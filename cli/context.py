"""What every command needs: settings, workspace, store — built on demand, never at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.logs import quiet_third_party
from engine.settings import Settings
from engine.store import KnowledgeStore, open_store
from engine.workspace import Workspace


@dataclass(frozen=True)
class Context:
    """The resolved settings and workspace of one command run."""

    settings: Settings
    workspace: Workspace

    @contextmanager
    def store(self, *, read_only: bool = False) -> Iterator[KnowledgeStore]:
        """Open the workspace's store (embedded Oxigraph by default) for one command."""
        store = open_store(
            self.workspace.config.store, path=self.settings.store_path, read_only=read_only
        )
        try:
            yield store
        finally:
            store.close()


def build_context(workspace: Path | None, data_dir: Path | None) -> Context:
    """Settings from the environment, overridden by the command-line options."""
    quiet_third_party()
    overrides: dict[str, object] = {}
    if workspace is not None:
        overrides["workspace"] = workspace
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    return Context(settings=settings, workspace=Workspace.load(settings.workspace))


def utc_now() -> datetime:
    """The wall clock, in UTC (injected everywhere else)."""
    return datetime.now(UTC)
