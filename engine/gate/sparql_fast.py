"""SHACL-SPARQL constraints (``sh:sparql`` with ``sh:select``, SHACL 5.3) evaluated by Oxigraph.

pyshacl runs such a constraint once per focus node through rdflib's SPARQL engine, which
has no join ordering: at 100k triples the example's three SPARQL constraints took 42 s of a
65 s ingest (3 ms a focus node, growing with the data). Here the same query text (pyshacl's
own pre-binding and prefix handling, so the same query and the same checks) runs in an
in-memory Oxigraph store of the same data, with ``$this`` pre-bound by substitution
(SEP-0007, the pre-binding SHACL 5.3.1 describes), and each solution becomes a result through
pyshacl's component, exactly as pyshacl's ``_evaluate_sparql_constraint`` makes it.

Only node shapes whose queries pre-bind nothing but ``$this`` qualify; ``$PATH``,
``$currentShape``, ``$shapesGraph`` or a query pyshacl rejects leave the constraint to pyshacl.

One query for all focus nodes. Oxigraph plans a query without knowing the substituted
``$this``, so a per-focus query can cost as much as the whole query (at 1M triples the
example's region query took 5.9 ms a focus node, 57k focus nodes: 340 s; the same query
unbound, once: 0.09 s; with ``VALUES $this`` over the focus nodes Oxigraph's plan is no
better: 40 s). When the query's algebra is a plain group — a projection keeping ``$this``,
maybe ``DISTINCT``, top-level ``FILTER``s over basic graph patterns (paths allowed) that bind
``$this`` — pre-binding ``$this`` to ``f`` equals joining the unbound solutions with
``{this: f}`` (SPARQL 1.1 §18.5: the filters see ``$this`` bound either way), so the query
runs once and its solutions are grouped by ``$this``. Anything else (sub-selects, MINUS,
OPTIONAL, UNION, BIND, VALUES, aggregates, LIMIT …) keeps the per-focus query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import rdflib
from pyshacl.constraints.sparql.sparql_based_constraints import SPARQLBasedConstraint
from pyshacl.shape import Shape
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from engine.terms import to_rdflib

_PROBE = rdflib.URIRef("urn:warrant:probe")
_THIS = ox.Variable("this")
_THIS_R = rdflib.Variable("this")
# Below this many focus nodes the per-focus queries are cheaper than one whole-data query.
WHOLE_QUERY_MIN_FOCUS = 32


@dataclass(frozen=True)
class PreparedSparql:
    """One ``sh:sparql`` constraint ready to run: pyshacl's helper and the final query text."""

    helper: Any
    text: str
    binds_this: bool
    whole: bool = False  # may run once, unbound, its solutions grouped by $this


@dataclass(frozen=True, eq=False)
class SparqlCheck:
    """Every SPARQL constraint of one node shape, as pyshacl's component holds them."""

    component: SPARQLBasedConstraint
    queries: tuple[PreparedSparql, ...]


def prepare_sparql(shape: Shape) -> SparqlCheck | None:
    """The shape's SPARQL constraints if all of them can run here, else None (pyshacl runs them)."""
    if shape.is_property_shape:
        return None
    try:
        component = SPARQLBasedConstraint(shape)
        queries = []
        for helper in component.sparql_constraints:
            binds, text = helper.pre_bind_variables(_PROBE)
            if set(binds) - {"this"}:
                return None
            final = helper.apply_prefixes(text)
            # Oxigraph must parse it, and substitute $this (only a projected variable)
            probe: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] | None
            probe = {_THIS: ox.NamedNode(str(_PROBE))} if "this" in binds else None
            ox.Store().query(final, substitutions=probe)
            whole = "this" in binds and groups_by_this(final)
            queries.append(PreparedSparql(helper, final, "this" in binds, whole))
    except Exception:  # whatever pyshacl (or Oxigraph) rejects stays with pyshacl
        return None
    return SparqlCheck(component, tuple(queries))


def groups_by_this(text: str) -> bool:
    """True when pre-binding ``$this`` equals filtering the unbound solutions on it."""
    try:
        algebra = prepareQuery(text).algebra
    except Exception:  # rdflib cannot parse what Oxigraph can: stay per focus node
        return False
    if algebra.name != "SelectQuery" or algebra.get("datasetClause"):
        return False
    node = algebra.p
    if node.name in ("Distinct", "Reduced"):
        node = node.p
    if node.name != "Project" or _THIS_R not in node.PV:
        return False
    node = node.p
    while node.name == "Filter":
        node = node.p
    return _this_in_bgps(node)


def _this_in_bgps(node: CompValue) -> bool:
    """``node`` is BGPs joined together, and one of their triples mentions ``$this``."""
    if node.name == "Join":
        left, right = _bgp_parts(node.p1), _bgp_parts(node.p2)
        return left is not None and right is not None and _THIS_R in left | right
    found = _bgp_parts(node)
    return found is not None and _THIS_R in found


def _bgp_parts(node: CompValue) -> set[Any] | None:
    """The terms of a BGP (or of joined BGPs); None for any other algebra node."""
    if node.name == "BGP":
        return {term for triple in node.triples for term in triple}
    if node.name == "Join":
        left, right = _bgp_parts(node.p1), _bgp_parts(node.p2)
        return None if left is None or right is None else left | right
    return None


def data_store(triples: Iterable[ox.Triple]) -> ox.Store:
    """An in-memory Oxigraph store of the data graph (its default graph)."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return store


def as_stored(literals: set[ox.Literal]) -> bool:
    """True when Oxigraph keeps every one of ``literals`` exactly as written."""
    store = ox.Store()
    node = ox.NamedNode("urn:warrant:literal")
    store.extend(ox.Quad(node, node, lit) for lit in literals)
    kept = {q.object for q in store.quads_for_pattern(None, None, None)}
    return kept == literals


def run_sparql(
    check: SparqlCheck,
    focus: list[Any],
    store: ox.Store,
    describe: rdflib.Graph,
    terms: Any,
) -> Iterator[Any]:
    """Results of every (active) SPARQL constraint on each focus node, as pyshacl words them."""
    component = check.component
    for query in check.queries:
        helper = query.helper
        if helper.deactivated:
            continue
        kwargs = {"source_constraint": helper.node, "extra_messages": helper.messages or None}
        if query.whole and len(focus) >= WHOLE_QUERY_MIN_FOCUS:
            solutions = store.query(query.text)
            assert isinstance(solutions, ox.QuerySolutions)
            names = [v.value for v in solutions.variables]
            by_this: dict[Any, list[ox.QuerySolution]] = {}
            for row in solutions:
                by_this.setdefault(row[_THIS], []).append(row)
            for f in focus:
                rows = by_this.get(f)
                if rows:
                    f_r = terms(f)
                    for found in _violations(names, rows):
                        yield _result(component, describe, f_r, found, kwargs)
            continue
        for f in focus:
            subs = {_THIS: f} if query.binds_this else None
            solutions = store.query(query.text, substitutions=subs)
            assert isinstance(solutions, ox.QuerySolutions)
            f_r = terms(f)
            names = [v.value for v in solutions.variables]
            for found in _violations(names, solutions):
                yield _result(component, describe, f_r, found, kwargs)


def _violations(names: list[str], solutions: Iterable[ox.QuerySolution]) -> list[Any]:
    """pyshacl's ``_validate_sparql_query`` over Oxigraph's solutions (same de-duplication)."""
    violations: list[Any] = []
    seen_failure = False
    for row in solutions:
        var_dict = {}
        for name in names:
            term = row[name]
            if term is not None and not isinstance(term, ox.Triple):
                var_dict[name] = to_rdflib(term)
        if var_dict.pop("failure", None) is not None:
            if not seen_failure:
                violations.append((True, var_dict))
                seen_failure = True
            continue
        p = var_dict.pop("path", None)
        v = var_dict.pop("value", None)
        t = var_dict.pop("this", None)
        found = (t, p, v, var_dict)
        if (p is not None or v is not None or t is not None) and found not in violations:
            violations.append(found)
    return violations


def _result(
    component: SPARQLBasedConstraint,
    describe: rdflib.Graph,
    f: Any,
    found: Any,
    kwargs: dict[str, Any],
) -> Any:
    """pyshacl's ``_evaluate_sparql_constraint`` for one violation of a node shape."""
    if found[0] is True and len(found) == 2:
        return component.make_v_result(describe, f, value_node=f, bound_vars=found[1], **kwargs)
    t, p, v, var_dict = found
    if v is None:
        v = f
    return component.make_v_result(
        describe, t or f, value_node=v, result_path=p, bound_vars=(t, p, v, var_dict), **kwargs
    )
