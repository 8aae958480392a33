"""Retrying HTTP requests to SPARQL servers: connection errors, timeouts and 502/503/504.

Both the SPARQL endpoint source and the remote store talk to servers that restart, sit
behind load balancers and time out; both retry the same way (exponential backoff) and then
report the failure in their own error type, naming their source or store.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

RETRY_STATUS = frozenset({502, 503, 504})
"""Gateway and availability answers that a retry may well cure."""


class RetriesExhausted(Exception):
    """The last transport error after every attempt failed; ``attempts`` counts them all."""

    def __init__(self, cause: httpx.HTTPError, attempts: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.attempts = attempts

    @property
    def timed_out(self) -> bool:
        """Whether the last attempt ended in a timeout (rather than a refused connection)."""
        return isinstance(self.cause, httpx.TimeoutException)


def send_with_retries(
    send: Callable[[], httpx.Response], *, retries: int, backoff_s: float
) -> httpx.Response:
    """``send()`` until it answers with something other than 502/503/504 or ``retries`` run out.

    The last answer is returned whatever its status (a 502 after the last retry included);
    transport errors on the last attempt raise :class:`RetriesExhausted`.
    """
    attempt = 0
    while True:
        try:
            response = send()
        except httpx.HTTPError as exc:
            if attempt < retries:
                attempt += 1
                time.sleep(backoff_s * 2 ** (attempt - 1))
                continue
            raise RetriesExhausted(exc, attempt + 1) from exc
        if response.status_code in RETRY_STATUS and attempt < retries:
            attempt += 1
            time.sleep(backoff_s * 2 ** (attempt - 1))
            continue
        return response
