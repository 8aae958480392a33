"""The ``warrant`` command line: one command per job, errors as one located line.

Examples::

    warrant ingest                      # every source of ./warrant.toml into ./var
    warrant ingest vendors --json       # one source, JSON summary
    warrant quarantine                  # what was rejected and why
    warrant query 'SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 5'
    warrant check                       # ontology (HermiT), shapes and rules
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from engine.errors import WarrantError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="warrant",
    help="Warrant: plans with proofs over an enterprise knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def fail(error: WarrantError, *, as_json: bool = False) -> None:
    """Print one located error line (or its JSON form) and exit non-zero."""
    if as_json:
        import json

        print(json.dumps({"error": error.as_dict()}, indent=2))
    else:
        err_console.print(f"[bold red]error[/] [dim]{error.code}[/] {error}", highlight=False)
    raise typer.Exit(code=2)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn WarrantError into one located line and exit code 2, never a stack trace."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except WarrantError as exc:
            fail(exc, as_json=bool(kwargs.get("as_json")))
            raise  # unreachable: fail() exits

    return wrapper


# Importing the command modules registers their commands on `app`.
from cli import (  # noqa: E402,F401
    commands_action,
    commands_export,
    commands_knowledge,
    commands_reasoning,
)
