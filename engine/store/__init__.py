"""The knowledge-graph store: one small interface, an embedded Oxigraph and a remote backend."""

from __future__ import annotations

from pathlib import Path

from engine.store.base import GraphChange, KnowledgeStore, QueryOutcome
from engine.store.oxigraph import OxigraphStore
from engine.workspace import StoreConfig


def open_store(config: StoreConfig, *, path: Path, read_only: bool = False) -> KnowledgeStore:
    """The store a workspace's ``[store]`` table names: Oxigraph on disk at ``path`` (the
    default), or a remote SPARQL 1.1 store shared by several stateless Warrant workers."""
    if config.type == "sparql":
        from engine.store.remote import open_remote_store

        return open_remote_store(**config.model_dump(exclude={"type"}))
    if read_only and not path.exists():
        read_only = False
    return OxigraphStore(path, read_only=read_only)


__all__ = ["GraphChange", "KnowledgeStore", "OxigraphStore", "QueryOutcome", "open_store"]
