"""Logging set-up shared by the CLI and the API."""

from __future__ import annotations

import logging


def quiet_third_party() -> None:
    """Silence rdflib's tracebacks for ill-typed literals.

    ``"high"^^xsd:integer`` is bad *data*, reported by the SHACL gate as a quarantine entry;
    rdflib additionally logs a full traceback each time it meets one, which reads like a crash.
    """
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
