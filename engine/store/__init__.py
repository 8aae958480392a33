"""The knowledge-graph store: one small interface, an embedded Oxigraph backend."""

from engine.store.base import GraphChange, KnowledgeStore, QueryOutcome
from engine.store.oxigraph import OxigraphStore

__all__ = ["GraphChange", "KnowledgeStore", "OxigraphStore", "QueryOutcome"]
