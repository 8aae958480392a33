"""Long-lived Bolt drivers, one per server and login, shared by the Neo4j source and sink.

A ``neo4j.Driver`` is a connection pool meant to live as long as the process (the driver's
own guidance), so connectors and the sink borrow drivers from :func:`shared_drivers` and do
not close them; :meth:`BoltDrivers.close` (at shutdown) does. There is a second reason:
FalkorDB's Bolt listener (4.16) stops accepting new connections once a client has ended a
session with ``GOODBYE`` — which ``Driver.close()`` sends — so a driver opened and closed
per read would leave the server unusable for the next one (see docs/graph-connectors.md).

The registry is created on first use, never at import.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from typing import Any, Literal

import neo4j


class BoltDrivers:
    """Drivers keyed by URL, user, a hash of the password and the connection timeout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drivers: dict[tuple[str, str | None, str, float], neo4j.Driver] = {}

    def get(
        self, url: str, *, user: str | None, password: str | None, timeout_s: float
    ) -> neo4j.Driver:
        """The driver for this server and login (created on first use; ValueError if bad URL)."""
        secret = hashlib.sha256((password or "").encode()).hexdigest()
        key = (url, user, secret, timeout_s)
        with self._lock:
            found = self._drivers.get(key)
            if found is None:
                auth = None if user is None else neo4j.basic_auth(user, password or "")
                found = neo4j.GraphDatabase.driver(
                    url,
                    auth=auth,
                    connection_timeout=timeout_s,
                    connection_acquisition_timeout=timeout_s,
                    max_transaction_retry_time=0,  # retries are the caller's, counted and reported
                )
                self._drivers[key] = found
            return found

    def close(self) -> None:
        """Close every driver (process shutdown)."""
        with self._lock:
            drivers, self._drivers = list(self._drivers.values()), {}
        for driver in drivers:
            driver.close()


@functools.cache
def shared_drivers() -> BoltDrivers:
    """The process-wide driver registry."""
    return BoltDrivers()


BoltDialect = Literal["neo4j", "falkordb"]
"""Which server speaks Bolt: Neo4j 5, or FalkorDB (whose parameter strings need escaping)."""


def bolt_params(value: object, *, dialect: BoltDialect) -> Any:
    """Query parameters as the server needs them: unchanged for Neo4j; for FalkorDB every
    string (also inside lists and maps) with ``\\`` and ``'`` backslash-escaped.

    FalkorDB 4.16 pastes Bolt string parameters into its query text between single quotes,
    so an unescaped ``'`` breaks the query (and a crafted one could change it); escaped, the
    value arrives exactly as sent.
    """
    if dialect == "neo4j":
        return value
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("'", "\\'")
    if isinstance(value, list | tuple):
        return [bolt_params(v, dialect=dialect) for v in value]
    if isinstance(value, dict):
        return {k: bolt_params(v, dialect=dialect) for k, v in value.items()}
    return value
