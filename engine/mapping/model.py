"""What the mapping step produces: the triples of each source record, with the record's locator."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from connectors.base import RecordLocator


@dataclass(frozen=True)
class MappedRecord:
    """All triples one source record produced, in a stable order.

    ``subjects`` are the focus nodes this record describes (the subjects of its triples,
    first-seen order); the gate quarantines a record when one of them violates a shape.
    """

    locator: RecordLocator
    triples: tuple[ox.Triple, ...]

    @property
    def subjects(self) -> tuple[ox.NamedNode | ox.BlankNode, ...]:
        seen: dict[ox.NamedNode | ox.BlankNode, None] = {}
        for t in self.triples:
            seen.setdefault(t.subject, None)  # type: ignore[arg-type]
        return tuple(seen)
