"""Load the workspace ontology (Turtle) and check it with the HermiT reasoner.

Two jobs, both over the ontology files of a workspace (``ontology/*.ttl``):

* :func:`load_ontology_graph` parses them into one rdflib graph, turning a syntax error into
  an :class:`~engine.errors.OntologyError` located at ``file:line:column``;
* :func:`check_ontology` asks HermiT (through owlready2) whether the TBox is consistent and
  which classes are unsatisfiable, and reports each finding located at a file and class IRI.

HermiT runs in a child process (``python -m engine.knowledge.ontology``) in a fresh owlready2
``World``: owlready2 offers no time limit and keeps module-wide state (``JAVA_EXE``), so a
child process is what lets ``timeout_s`` stop a runaway JVM and keeps the caller's
owlready2 state untouched. owlready2's bundled Pellet needs Java 25, so HermiT it is; HermiT
knows only the OWL 2 datatype map, so datatypes such as ``xsd:date`` are ignored while
reasoning (they matter to SHACL, not to satisfiability here).

>>> from pathlib import Path
>>> report = check_ontology([Path("ontology/core.ttl"), Path("ontology/vendor-risk.ttl")])
>>> report.consistent, report.unsatisfiable
(True, ())
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import rdflib
from rdflib.plugins.parsers.notation3 import BadSyntax

from engine.errors import Location, OntologyError

__all__ = [
    "OntologyMessage",
    "OntologyReport",
    "check_ontology",
    "load_ontology_graph",
]

JAVA_MISSING: Final = (
    "java not found: install a JRE (e.g. Debian openjdk-17-jre-headless) "
    "to check the ontology with HermiT"
)
_PACKAGE_ROOT: Final = Path(__file__).resolve().parent.parent
_CHECK_IRI: Final = "urn:warrant:ontology-check"
_OWL_NOTHING: Final = "http://www.w3.org/2002/07/owl#Nothing"


@dataclass(frozen=True)
class OntologyMessage:
    """One finding of the check: the ontology is inconsistent, or a class is unsatisfiable."""

    kind: Literal["inconsistent", "unsatisfiable"]
    message: str
    location: Location

    def __str__(self) -> str:
        loc = str(self.location)
        return f"{loc}: {self.message}" if loc else self.message


@dataclass(frozen=True)
class OntologyReport:
    """What HermiT found: consistency, unsatisfiable class IRIs, located messages, seconds."""

    consistent: bool
    unsatisfiable: tuple[str, ...]
    messages: tuple[OntologyMessage, ...]
    duration: float

    @property
    def ok(self) -> bool:
        """True when the ontology is consistent and every class is satisfiable."""
        return self.consistent and not self.unsatisfiable


@dataclass(frozen=True)
class _Outcome:
    consistent: bool
    unsatisfiable: tuple[str, ...]


# --- loading ------------------------------------------------------------------------------


def _syntax_location(path: Path, exc: BadSyntax) -> Location:
    """file:line:column of a Turtle syntax error (rdflib counts lines from 0)."""
    text: bytes = getattr(exc, "_str", b"")
    offset: int = getattr(exc, "_i", -1)
    column = None
    if 0 <= offset <= len(text):
        column = offset - (text.rfind(b"\n", 0, offset) + 1) + 1
    return Location(file=str(path), line=exc.lines + 1, column=column)


def _parse_file(path: Path) -> rdflib.Graph:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OntologyError(
            f"cannot read ontology file `{path}`: {exc.strerror or exc}",
            location=Location(file=str(path)),
        ) from exc
    graph = rdflib.Graph()
    try:
        graph.parse(data=data, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        why = str(getattr(exc, "_why", "bad syntax"))
        why = why[:1].lower() + why[1:]
        raise OntologyError(
            f"turtle syntax error: {why}", location=_syntax_location(path, exc)
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise OntologyError(
            f"turtle syntax error: {str(exc).splitlines()[0].lower() if str(exc) else 'invalid'}",
            location=Location(file=str(path)),
        ) from exc
    return graph


def load_ontology_graph(paths: Sequence[Path]) -> rdflib.Graph:
    """Parse the Turtle files into one graph; a parse error raises a located OntologyError."""
    merged = rdflib.Graph()
    for path in paths:
        part = _parse_file(path)
        for prefix, namespace in part.namespaces():
            merged.bind(prefix, namespace, override=False)
        merged += part
    return merged


# --- Java ---------------------------------------------------------------------------------


def _usable(candidate: str) -> str | None:
    if os.sep in candidate or (os.altsep is not None and os.altsep in candidate):
        p = Path(candidate)
        return str(p) if p.is_file() and os.access(p, os.X_OK) else None
    return shutil.which(candidate)


def _resolve_java(java: str | None) -> str:
    """The java executable to run HermiT with: ``java`` if given, else owlready2's, else PATH."""
    if java is not None:
        found = _usable(java)
        if found is None:
            raise OntologyError(JAVA_MISSING, details={"java": java})
        return found
    import owlready2

    for candidate in (str(owlready2.JAVA_EXE), "java"):
        found = _usable(candidate)
        if found is not None:
            return found
    raise OntologyError(JAVA_MISSING)


# --- reasoning (parent side) --------------------------------------------------------------


def _run_reasoner(
    graph: rdflib.Graph, java: str, deadline: float, tmp: Path, *, limit: float
) -> _Outcome:
    """Run HermiT on ``graph`` in a child process that is killed at ``deadline``."""
    nt = tmp / "ontology.nt"
    out = tmp / "outcome.json"
    out.unlink(missing_ok=True)
    nt.write_bytes(graph.serialize(format="nt", encoding="utf-8"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", "engine.knowledge.ontology", str(nt), str(out), "--java", java]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
    )
    timeout = max(deadline - time.monotonic(), 0.0)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise OntologyError(f"the ontology check ran past its time limit of {limit:g} s") from exc
    if proc.returncode != 0 or not out.is_file():
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        raise OntologyError(
            "the reasoner failed: " + (lines[-1] if lines else f"exit status {proc.returncode}")
        )
    result = json.loads(out.read_text(encoding="utf-8"))
    if result.get("error"):
        raise OntologyError(f"the reasoner failed: {result['error']}")
    return _Outcome(bool(result["consistent"]), tuple(result["unsatisfiable"]))


# --- locating findings --------------------------------------------------------------------


def _line_of(path: Path, graph: rdflib.Graph, iri: str) -> int | None:
    """The first line of ``path`` where ``iri`` starts a statement (else where it appears)."""
    tokens = [f"<{iri}>"]
    for prefix, namespace in graph.namespaces():
        ns = str(namespace)
        if iri.startswith(ns) and len(iri) > len(ns):
            tokens.append(f"{prefix}:{iri[len(ns) :]}")
    pattern = re.compile("(?:" + "|".join(re.escape(t) for t in tokens) + r")(?=[\s;,.)\]]|$)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    anywhere = None
    for number, line in enumerate(lines, start=1):
        match = pattern.search(line)
        if match is None:
            continue
        if not line[: match.start()].strip():
            return number
        anywhere = anywhere or number
    return anywhere


def _locate(iri: str, parts: Sequence[tuple[Path, rdflib.Graph]]) -> Location:
    """Where a class is defined: the first file that describes it, and the line."""
    node = rdflib.URIRef(iri)
    for path, graph in parts:
        if (node, None, None) in graph:
            return Location(file=str(path), line=_line_of(path, graph, iri))
    for path, graph in parts:
        if (None, None, node) in graph:
            return Location(file=str(path), line=_line_of(path, graph, iri))
    return Location(file=str(parts[0][0])) if parts else Location()


def check_ontology(
    paths: Sequence[Path], *, java: str | None = None, timeout_s: float = 120
) -> OntologyReport:
    """Check consistency and class satisfiability with HermiT; findings are report entries.

    Raises :class:`OntologyError` when a file does not parse, when Java is missing, when the
    reasoner fails, or when it runs past ``timeout_s``.
    """
    started = time.monotonic()
    parts = [(path, _parse_file(path)) for path in paths]
    if not parts:
        return OntologyReport(True, (), (), 0.0)
    exe = _resolve_java(java)
    deadline = started + timeout_s
    merged = rdflib.Graph()
    for _, graph in parts:
        merged += graph
    messages: list[OntologyMessage] = []
    with tempfile.TemporaryDirectory(prefix="warrant-ontology-") as tmp_dir:
        tmp = Path(tmp_dir)
        outcome = _run_reasoner(merged, exe, deadline, tmp, limit=timeout_s)
        if not outcome.consistent:
            messages.append(_inconsistency(parts, exe, deadline, tmp, limit=timeout_s))
    for iri in outcome.unsatisfiable:
        messages.append(
            OntologyMessage(
                "unsatisfiable",
                f"class `{iri}` is unsatisfiable: it is equivalent to owl:Nothing, "
                "so it can have no instance",
                _locate(iri, parts),
            )
        )
    return OntologyReport(
        consistent=outcome.consistent,
        unsatisfiable=outcome.unsatisfiable,
        messages=tuple(messages),
        duration=time.monotonic() - started,
    )


def _inconsistency(
    parts: Sequence[tuple[Path, rdflib.Graph]],
    java: str,
    deadline: float,
    tmp: Path,
    *,
    limit: float,
) -> OntologyMessage:
    """Name the file whose addition makes the files before it inconsistent."""
    culprit = parts[-1][0]
    prefix = rdflib.Graph()
    for path, graph in parts[:-1]:
        prefix += graph
        if not _run_reasoner(prefix, java, deadline, tmp, limit=limit).consistent:
            culprit = path
            break
    return OntologyMessage(
        "inconsistent",
        "the ontology is inconsistent: no interpretation satisfies all its axioms "
        "(e.g. an individual asserted in two disjoint classes)",
        Location(file=str(culprit)),
    )


# --- reasoning (child side) ---------------------------------------------------------------


def _reason(nt_path: Path, java: str) -> dict[str, object]:
    """Load N-Triples into a fresh owlready2 World and run HermiT; the outcome as JSON data."""
    import owlready2

    owlready2.JAVA_EXE = java
    world = owlready2.World()
    with nt_path.open("rb") as f:
        world.get_ontology(_CHECK_IRI).load(fileobj=f, format="ntriples")
    try:
        owlready2.sync_reasoner_hermit(
            world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
        )
    except owlready2.OwlReadyInconsistentOntologyError:
        return {"consistent": False, "unsatisfiable": []}
    except owlready2.OwlReadyJavaError as exc:
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        return {"error": lines[1] if len(lines) > 1 else (lines[0] if lines else "java error")}
    unsat = sorted({c.iri for c in world.inconsistent_classes()} - {_OWL_NOTHING})
    return {"consistent": True, "unsatisfiable": unsat}


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.knowledge.ontology")
    parser.add_argument("ntriples", type=Path)
    parser.add_argument("outcome", type=Path)
    parser.add_argument("--java", required=True)
    args = parser.parse_args(argv)
    result = _reason(args.ntriples, args.java)
    args.outcome.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
