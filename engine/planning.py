"""The decision plane's facade: knowledge graph + ontology + rules → plans, decisions, proofs.

It ties the binding (ontology → ASP predicates, KG → facts with their origins) to the
reasoner (warm clingo controls, proofs, why-not, conflicts) and keeps what is expensive warm:

* the schema, per ontology content;
* the rules, per rules revision (files re-read and re-checked when they change);
* the facts, per (KG state, rules revision) — the KG state is the list of ingestion batches in
  the provenance graph, so any batch (pulled or pushed) invalidates them;
* the reasoner's grounded controls, per (rules revision, facts revision, today).

Example::

    plane = DecisionPlane(workspace, store, clock=utc_now)
    record = plane.plan("remediate", {})
    print(record.plan.actions[0].decision.kind)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import clingo
import pyoxigraph as ox
import rdflib

from engine.binding.facts import FactSet as KgFacts
from engine.binding.facts import load_facts
from engine.binding.prefixes import PrefixMap
from engine.binding.schema import Schema, derive_schema
from engine.errors import ParameterError, RuleError
from engine.reasoning import FactSet, Plan, Reasoner, RuleSet, check_rules, load_rules
from engine.reasoning.facts import action_symbol, days_since_epoch
from engine.reasoning.rules import ParamType, RuleMessage
from engine.reasoning.whynot import WhyNot
from engine.store.base import KnowledgeStore
from engine.vocab import GRAPH_PROVENANCE
from engine.workspace import Workspace

Clock = Callable[[], dt.datetime]
PlanKind = Literal["plan", "decision"]
_ACTION_TEXT = re.compile(r"^\s*([a-z][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)


@dataclass(frozen=True)
class PlanRecord:
    """A plan (or a single decision) with its id and the state it was computed on."""

    id: str
    kind: PlanKind
    created_at: dt.datetime
    kg_state: str
    now: int
    plan: Plan

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: the plan itself plus id, kind, time and the KG state used."""
        body = json.loads(self.plan.to_json())
        return {
            "id": self.id,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "kg_state": self.kg_state,
            "now": self.now,
            **body,
        }


def kg_state(store: KnowledgeStore) -> str:
    """A hash of every ingestion batch recorded so far: changes with each batch, else stable."""
    q = f"""SELECT ?b WHERE {{ GRAPH <{GRAPH_PROVENANCE.value}> {{
        ?b a <https://w3id.org/warrant/core#Batch> }} }} ORDER BY ?b"""
    digest = hashlib.sha256()
    for row in store.select(q):
        digest.update(row["b"].value.encode())  # type: ignore[union-attr]
        digest.update(b"\n")
    return digest.hexdigest()


def used_signatures(rules: RuleSet) -> set[tuple[str, int]]:
    """Every predicate signature the rules mention (the ``in <class>`` domains of their
    ``@param`` / ``@action`` annotations too): only these facts are handed to clingo."""
    from engine.reasoning.astutil import atom_signature, walk

    out: set[tuple[str, int]] = {(p.domain, 1) for p in rules.params if p.domain}
    out |= {(d, 1) for a in rules.actions for d in a.domains if d}
    for stmt in rules.statements:
        for node in walk(stmt.node):
            if node.ast_type == clingo.ast.ASTType.SymbolicAtom:
                sig = atom_signature(node)
                if sig is not None:
                    out.add(sig)
    return out


def parse_action(text: str) -> tuple[str, list[str]]:
    """Split ``suspend_flow(acme:processing/P-0003)`` into name and raw argument strings.

    Arguments may be quoted; nothing here reaches program text: the raw strings are typed by
    the action's ``@action`` declaration and become clingo Symbols.
    """
    m = _ACTION_TEXT.match(text)
    if not m:
        raise ParameterError(f"`{text[:80]}` is not an action like `name(arg, ...)`")
    name, inner = m.group(1), m.group(2)
    if inner is None or not inner.strip():
        return name, []
    args: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    for ch in inner:
        if quote:
            if ch == quote:
                quote = None
            else:
                buf.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ",":
            args.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    if quote:
        raise ParameterError(f"unterminated quote in action `{text[:80]}`")
    args.append("".join(buf).strip())
    return name, args


class DecisionPlane:
    """Plans and decisions over one workspace and store, warm between requests."""

    def __init__(
        self,
        workspace: Workspace,
        store: KnowledgeStore,
        *,
        clock: Clock,
        time_limit_s: float | None = None,
    ) -> None:
        self.workspace = workspace
        self.store = store
        self.clock = clock
        self.time_limit_s = time_limit_s or workspace.config.rules.time_limit_s
        self._lock = threading.RLock()
        self._ontology: rdflib.Graph | None = None
        self._schema: Schema | None = None
        self._prefixes: PrefixMap | None = None
        self._rules: RuleSet | None = None
        self._rules_stamp: tuple[tuple[str, int, int], ...] | None = None
        self._reasoner: Reasoner | None = None
        self._facts: tuple[str, str, KgFacts, FactSet] | None = None
        self._state: tuple[int, str] | None = None  # provenance writes seen, KG state
        self._resolver: tuple[KgFacts, Callable[[clingo.Symbol], object | None]] | None = None
        self._request_depth = 0
        self._labeller: tuple[KgFacts, Callable[[clingo.Symbol], str | None]] | None = None

    # -- the inputs, each cached ------------------------------------------------------------

    def ontology(self) -> rdflib.Graph:
        """The workspace ontology as an rdflib graph (empty for an empty workspace)."""
        if self._ontology is None:
            files = self.workspace.ontology_files()
            if files:
                from engine.knowledge.ontology import load_ontology_graph

                self._ontology = load_ontology_graph(files)
            else:
                self._ontology = rdflib.Graph()
        return self._ontology

    def prefixes(self) -> PrefixMap:
        """Standard + ontology + ``[project.prefixes]`` bindings used for compact IRIs."""
        if self._prefixes is None:
            self._prefixes = PrefixMap.from_graph(self.ontology()).merged(
                self.workspace.config.project.prefixes
            )
        return self._prefixes

    def schema(self) -> Schema:
        """The ASP predicates derived from the ontology."""
        if self._schema is None:
            self._schema = derive_schema(self.ontology(), prefixes=self.prefixes())
        return self._schema

    @property
    def loaded_revision(self) -> str | None:
        """The revision of the rules in use, or None before the first request loaded them."""
        return self._rules.revision if self._rules is not None else None

    def rules(self) -> RuleSet:
        """The rules, reloaded when a rule file changed; RuleError if they do not check."""
        with self._lock:
            if self._request_depth and self._rules is not None:
                return self._rules  # checked once at the start of this request
            # Re-reading and re-parsing every rule file on each call cost ~10 ms, several
            # times per request: stat them first and parse only when one changed.
            stamp = _rules_stamp(self.workspace.rules_dir())
            if self._rules is not None and stamp == self._rules_stamp:
                return self._rules
            fresh = load_rules(self.workspace.root, directory=self.workspace.rules_dir())
            if self._rules is None or fresh.revision != self._rules.revision:
                errors = [m for m in self.check_messages(fresh) if m.severity == "error"]
                if errors:
                    first = errors[0]
                    raise RuleError(
                        first.message,
                        location=first.location,
                        code=first.code,
                        details={"errors": [str(m) for m in errors]},
                    )
                self._rules = fresh
                self._reasoner = Reasoner(fresh, time_limit=self.time_limit_s)
                self._facts = None
            self._rules_stamp = stamp
            return self._rules

    def check_messages(self, rules: RuleSet | None = None) -> list[RuleMessage]:
        """Every located message about the rules: syntax, safety, unknown predicates, arity."""
        rules = rules or load_rules(self.workspace.root, directory=self.workspace.rules_dir())
        schema = {p.name: p.arity for p in self.schema().predicates}
        return check_rules(rules, schema_predicates=schema)

    def reasoner(self) -> Reasoner:
        """The warm reasoner of the current rules."""
        self.rules()
        assert self._reasoner is not None
        return self._reasoner

    def facts(self) -> tuple[KgFacts, FactSet]:
        """The KG facts the rules use, reloaded after any ingestion batch."""
        with self._lock:
            rules = self.rules()
            state = self.kg_state()
            if self._facts is not None and self._facts[:2] == (state, rules.revision):
                return self._facts[2], self._facts[3]
            graphs = [
                ox.NamedNode(self.workspace.source_graph(n)) for n in self.workspace.config.sources
            ]
            kg = load_facts(
                self.store,
                self.schema(),
                used=used_signatures(rules),
                graphs=graphs,
                prefixes=self.prefixes(),
                ontology=self.ontology(),
            )
            facts = FactSet.from_groups({"kg": kg.symbols}, revision=kg.revision)
            self._facts = (state, rules.revision, kg, facts)
            return kg, facts

    def kg_state(self) -> str:
        """:func:`kg_state` of the store, read again only when the provenance graph may have
        changed: every request asked, and the query grows with every batch ever ingested
        (~50 µs of a 0.45 ms decision with a handful of batches)."""
        with self._lock:
            seen = self.store.changes(GRAPH_PROVENANCE)
            if seen is not None and self._state is not None and self._state[0] == seen:
                return self._state[1]
            state = kg_state(self.store)
            self._state = None if seen is None else (seen, state)
            return state

    def today(self) -> int:
        """Today in days since 1970-01-01: ``[rules] now`` if fixed, else the clock."""
        fixed = self.workspace.config.rules.now
        day = dt.date.fromisoformat(fixed) if fixed else self.clock().date()
        return days_since_epoch(day)

    # -- requests -------------------------------------------------------------------------

    def typed_params(self, raw: Mapping[str, object]) -> dict[str, object]:
        """Request parameters converted to their declared types (IRIs compacted)."""
        decls = {p.name: p.type for p in self.rules().params}
        out: dict[str, object] = {}
        for name, value in raw.items():
            if name not in decls:
                known = ", ".join(f"`{n}`" for n in sorted(decls)) or "none"
                raise ParameterError(f"unknown parameter `{name}`; known parameters: {known}")
            out[name] = self._typed(f"param `{name}`", decls[name], value)
        return out

    def _typed(self, what: str, kind: ParamType, value: object) -> object:
        if not isinstance(value, str):
            return value
        if kind == "iri":
            text = value.strip().removeprefix("<").removesuffix(">")
            return self.prefixes().compact(self.prefixes().expand(text))
        if kind == "int":
            try:
                return int(value)
            except ValueError:
                raise ParameterError(f"{what} expects an integer, got `{value[:80]}`") from None
        if kind == "bool":
            if value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ParameterError(f"{what} expects true or false, got `{value[:80]}`")
        return value

    def action(self, text: str) -> clingo.Symbol:
        """A proposed action from its text form, typed by its ``@action`` declaration."""
        name, raw = parse_action(text)
        decls = {a.name: a for a in self.rules().actions}
        if name not in decls:
            known = ", ".join(f"`{n}`" for n in sorted(decls)) or "none"
            raise ParameterError(f"unknown action type `{name}`; known action types: {known}")
        decl = decls[name]
        if len(raw) != len(decl.args):
            raise ParameterError(
                f"action `{name}` takes {len(decl.args)} arguments, got {len(raw)}"
            )
        args = [
            self._typed(f"argument `{var}` of `{name}`", kind, value)
            for (var, kind), value in zip(decl.args, raw, strict=True)
        ]
        return action_symbol(self.rules(), name, args)

    def plan(self, goal: str, params: Mapping[str, object] | None = None) -> PlanRecord:
        """The optimal plan for ``goal`` with a decision and proof per action."""
        with self._request():
            typed = self.typed_params(params or {})
            kg, facts = self.facts()
            now = self.today()
            plan = self.reasoner().plan(
                facts,
                goal,
                typed,
                now=now,
                origin=self.origin_resolver(kg),
                label_of=self.label_function(kg),
            )
            return self._record("plan", plan, now)

    def decide(self, action: str, params: Mapping[str, object] | None = None) -> PlanRecord:
        """Policy decision for one proposed action (no planning), with its proof."""
        with self._request():
            symbol = self.action(action)
            typed = self.typed_params(params or {})
            kg, facts = self.facts()
            now = self.today()
            plan = self.reasoner().decide(
                facts,
                symbol,
                typed,
                now=now,
                origin=self.origin_resolver(kg),
                label_of=self.label_function(kg),
            )
            return self._record("decision", plan, now)

    def why_not(self, record: PlanRecord, action: str) -> WhyNot:
        """Why ``action`` is not in a stored plan (evaluated on the current KG)."""
        with self._request():
            symbol = self.action(action)
            kg, facts = self.facts()
            return self.reasoner().why_not(
                facts,
                record.plan.goal,
                symbol,
                dict(record.plan.params),
                now=record.now,
                origin=self.origin_resolver(kg),
                label_of=self.label_function(kg),
            )

    @contextmanager
    def _request(self) -> Iterator[None]:
        """Hold the lock and check the rule files once for the whole request.

        ``rules()`` stats every rule file; a request reached it five times (parameters, the
        action, facts, reasoner), ~0.1 ms each on a warm decision of a few milliseconds.
        """
        with self._lock:
            self.rules()
            self._request_depth += 1
            try:
                yield
            finally:
                self._request_depth -= 1

    def origin_resolver(self, kg: KgFacts) -> Callable[[clingo.Symbol], object | None]:
        """One origin resolver per loaded fact set: the reasoner keeps the proof fact nodes
        (origin JSON and hashes) it built with a resolver for as long as it is the same."""
        if self._resolver is None or self._resolver[0] is not kg:
            self._resolver = (kg, _origin(kg))
        return self._resolver[1]

    def label_function(self, kg: KgFacts) -> Callable[[clingo.Symbol], str | None]:
        """``kg.terms.label``, the same object while the fact set is: proofs keep the labels
        they rendered with it (a bound method read twice is two objects)."""
        if self._labeller is None or self._labeller[0] is not kg:
            self._labeller = (kg, kg.terms.label)
        return self._labeller[1]

    def _record(self, kind: PlanKind, plan: Plan, now: int) -> PlanRecord:
        digest = hashlib.sha256(
            "\n".join(
                [
                    kind,
                    plan.goal,
                    plan.proposed or "",
                    json.dumps(plan.params, sort_keys=True),
                    plan.rules_revision,
                    plan.facts_revision,
                    str(now),
                ]
            ).encode()
        ).hexdigest()
        prefix = "plan" if kind == "plan" else "dec"
        return PlanRecord(
            id=f"{prefix}-{digest[:16]}",
            kind=kind,
            created_at=self.clock(),
            kg_state=plan.facts_revision,
            now=now,
            plan=plan,
        )


def _rules_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, mtime and size of every rule file (the ``*.lp`` files ``load_rules`` reads).

    Read on every request: one ``scandir`` and a ``stat`` per file, not pathlib's glob (its
    pattern matching and path objects were 5% of a served decision's CPU).
    """
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".lp")]
    except (FileNotFoundError, NotADirectoryError):
        return ()
    out = []
    for entry in sorted(entries, key=lambda e: e.name):
        st = entry.stat()
        out.append((entry.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _origin(kg: KgFacts) -> Callable[[clingo.Symbol], object | None]:
    def origin(atom: clingo.Symbol) -> object | None:
        found = kg.origins(atom)
        return [o.as_dict() for o in found] if found else None

    return origin
