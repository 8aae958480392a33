"""The SHACL gate: data contracts checked on every batch before it reaches the store.

``validate_graph`` validates an rdflib graph (and passes the W3C SHACL test suite);
``gate_batch`` validates a batch of mapped records, only the changed focus nodes where the
shapes allow it, and splits the records into accepted and quarantined.
"""

from engine.gate.batch import GateCounts, GateResult, QuarantinedRecord, ValidationScope, gate_batch
from engine.gate.context import ContextProvider, NoContext, StoreContext
from engine.gate.report import Severity, ValidationOutcome, ValidationResult
from engine.gate.validate import validate_graph

__all__ = [
    "ContextProvider",
    "GateCounts",
    "GateResult",
    "NoContext",
    "QuarantinedRecord",
    "Severity",
    "StoreContext",
    "ValidationOutcome",
    "ValidationResult",
    "ValidationScope",
    "gate_batch",
    "validate_graph",
]
