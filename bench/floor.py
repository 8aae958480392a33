"""The HTTP floor: the least any Python API on this stack pays to send a body.

``python -m bench.floor --port P --bodies DIR`` serves ``GET /body/{i}`` as the bytes of
``DIR/{i}`` (JSON) from a bare Starlette app on uvicorn — no authentication, middleware,
logging or query engine — and ``GET /healthz``. The SPARQL scenario sends it the bytes its
queries answered with: what is left of ``/sparql``'s overhead above this floor is Warrant's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

KEEP_ALIVE_S = 3600
"""Idle seconds a client connection stays open: a benchmark's client keeps one connection
across requests minutes apart (at 1M, one round of interleaved runs)."""


def app(bodies: list[bytes]) -> Starlette:
    """The floor app over ``bodies``."""

    async def body(request: Request) -> Response:
        return Response(bodies[int(request.path_params["i"])], media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    return Starlette(routes=[Route("/body/{i:int}", body), Route("/healthz", healthz)])


def main(argv: list[str] | None = None) -> None:
    """Serve the bodies in ``--bodies`` on 127.0.0.1:``--port`` until stopped."""
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bodies", type=Path, required=True)
    a = p.parse_args(argv)
    files = sorted(a.bodies.iterdir(), key=lambda f: int(f.name))
    uvicorn.run(app([f.read_bytes() for f in files]), host="127.0.0.1", port=a.port,
                log_config=None, access_log=False, timeout_keep_alive=KEEP_ALIVE_S)


if __name__ == "__main__":
    main()
