"""The knowledge plane: sources → mapped records → SHACL gate → one atomic batch with provenance.

``sourcing`` reads a source through its connector and mapping, ``ingest`` gates and writes a
batch, ``push`` turns pushed upserts / deletes into a batch, ``provenance`` and ``quarantine``
are what a batch records, ``ontology`` checks the ontology and ``ontology_sync`` keeps it in
the store.
"""
