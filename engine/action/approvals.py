"""The approval queue: escalated actions wait here for an approver of the named role.

Each entry records the action, the role, the reasons and the proof's *fact basis*: the KG
facts (atoms, with the triples behind them) its proof stood on. Before an approved action is
dispatched the basis is checked against the current KG (see :mod:`engine.service`); if it no
longer holds, the entry is ``superseded`` and the action goes back for a new decision.

States::

    pending ──approve──▶ approved ──(re-check failed)──▶ superseded
       └─────reject───▶ rejected

Deciding an entry that is not pending is a :class:`ConflictError` (approving twice); an id
that names no entry is a :class:`NotFoundError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.action.db import approvals, read, write
from engine.errors import ConflictError, NotFoundError
from engine.reasoning import FactNode, ProofGraph, RuleNode


class ApprovalState(StrEnum):
    """Where an escalated action is in the queue."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, order=True)
class BasisFact:
    """One KG fact a proof used, with the triples (s, p, o, graph) it was read from."""

    atom: str
    triples: tuple[tuple[str, str, str, str], ...]

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"atom": self.atom, "triples": [list(t) for t in self.triples]}


@dataclass(frozen=True)
class Approval:
    """One entry of the queue."""

    id: str
    plan_id: str
    action_index: int
    action: str
    role: str
    reasons: tuple[str, ...]
    state: ApprovalState
    dispatch: bool
    created_at: dt.datetime
    basis: tuple[BasisFact, ...]
    approver: str | None = None
    comment: str | None = None
    decided_at: dt.datetime | None = None
    superseded_by: str | None = None


def approval_id(plan_id: str, action_index: int) -> str:
    """The id of the queue entry of a plan's action (stable: asking twice finds the same)."""
    digest = hashlib.sha256(f"{plan_id}\x1f{action_index}".encode()).hexdigest()
    return f"apr-{digest[:16]}"


def _origin_triples(origin: Any) -> tuple[tuple[str, str, str, str], ...]:
    found: list[tuple[str, str, str, str]] = []
    for item in origin if isinstance(origin, list) else []:
        if isinstance(item, dict) and isinstance(item.get("triple"), list):
            s, p, o = (str(x) for x in item["triple"])
            found.append((s, p, o, str(item.get("graph", ""))))
    return tuple(sorted(set(found)))


def fact_leaves(proofs: ProofGraph, roots: Iterable[str]) -> list[FactNode]:
    """The KG fact leaves reachable from ``roots`` (node ids), each once, in id order."""
    seen: set[str] = set()
    leaves: dict[str, FactNode] = {}
    stack = list(roots)
    while stack:
        nid = stack.pop()
        if nid in seen or nid not in proofs.nodes:
            continue
        seen.add(nid)
        node = proofs.nodes[nid]
        if isinstance(node, RuleNode):
            stack.extend(node.children)
        elif node.source == "kg":
            leaves[nid] = node
    return [leaves[k] for k in sorted(leaves)]


def action_roots(proofs: ProofGraph, action: str) -> list[str]:
    """The proof node ids of an action: its choice and every deny / escalate of it."""
    return _roots_by_action(proofs).get("".join(action.split()), [])


_last_index: tuple[ProofGraph, dict[str, list[str]]] | None = None


def _roots_by_action(proofs: ProofGraph) -> dict[str, list[str]]:
    """The proof's roots grouped by the action they are about (``action(A)``, ``deny(A, …)``,
    ``escalate(A, …)``; whitespace-free text), in root order; kept for the last graph asked
    about: a plan's record looks up every one of its actions (at 1M triples, ~50k actions
    against ~100k roots, scanning the roots for each was most of storing the plan)."""
    global _last_index
    last = _last_index
    if last is not None and last[0] is proofs:
        return last[1]
    index: dict[str, list[str]] = {}
    for atom, nid in sorted(proofs.roots.items()):
        about = _action_of("".join(atom.split()))
        if about is not None:
            index.setdefault(about, []).append(nid)
    _last_index = (proofs, index)
    return index


def _action_of(atom: str) -> str | None:
    """``A`` of ``action(A)``, or the first argument of ``deny(A, …)`` / ``escalate(A, …)``."""
    if atom.startswith("action(") and atom.endswith(")"):
        return atom[len("action(") : -1]
    for head in ("deny(", "escalate("):
        if atom.startswith(head):
            return _first_argument(atom[len(head) :])
    return None


def _first_argument(args: str) -> str | None:
    """The text before the first comma outside parentheses and quotes (None: no comma)."""
    depth = 0
    quoted = escaped = False
    for i, ch in enumerate(args):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            return args[:i]
    return None


def fact_basis(proofs: ProofGraph | None, action: str) -> tuple[BasisFact, ...]:
    """The KG facts the proof of ``action`` stands on, with their triples, sorted."""
    if proofs is None:
        return ()
    facts = {
        leaf.atom: BasisFact(leaf.atom, _origin_triples(leaf.origin))
        for leaf in fact_leaves(proofs, action_roots(proofs, action))
    }
    return tuple(facts[k] for k in sorted(facts))


def source_records(proofs: ProofGraph | None, action: str) -> list[str]:
    """The IRIs of the source records behind the proof of ``action`` (proof leaves' origins)."""
    if proofs is None:
        return []
    found: set[str] = set()
    for leaf in fact_leaves(proofs, action_roots(proofs, action)):
        for item in leaf.origin if isinstance(leaf.origin, list) else []:
            record = item.get("record") if isinstance(item, dict) else None
            if isinstance(record, dict) and isinstance(record.get("iri"), str):
                found.add(record["iri"])
    return sorted(found)


def _instant(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _decode(row: Any) -> Approval:
    basis = tuple(
        BasisFact(b["atom"], tuple((t[0], t[1], t[2], t[3]) for t in b["triples"]))
        for b in json.loads(row.basis)
    )
    created = _instant(row.created_at)
    assert created is not None
    return Approval(
        id=row.id,
        plan_id=row.plan_id,
        action_index=int(row.action_index),
        action=row.action,
        role=row.role,
        reasons=tuple(json.loads(row.reasons)),
        state=ApprovalState(row.state),
        dispatch=bool(row.dispatch),
        created_at=created,
        basis=basis,
        approver=row.approver,
        comment=row.comment,
        decided_at=_instant(row.decided_at),
        superseded_by=row.superseded_by,
    )


class ApprovalStore:
    """The queue in the action plane's database (shared with the audit log and the outbox)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, approval: Approval, *, conn: Connection | None = None) -> bool:
        """Queue an entry; False (and nothing written) if its id is already queued."""
        if conn is None:
            with write(self.engine) as own:
                return self.add(approval, conn=own)
        if conn.execute(sa.select(approvals.c.id).where(approvals.c.id == approval.id)).first():
            return False
        conn.execute(
            sa.insert(approvals).values(
                id=approval.id,
                plan_id=approval.plan_id,
                action_index=approval.action_index,
                action=approval.action,
                role=approval.role,
                reasons=json.dumps(list(approval.reasons)),
                state=approval.state.value,
                dispatch=approval.dispatch,
                created_at=approval.created_at.isoformat(),
                basis=json.dumps([b.as_dict() for b in approval.basis], sort_keys=True),
            )
        )
        return True

    def get(self, approval_id: str, *, conn: Connection | None = None) -> Approval:
        """One entry; NotFoundError naming the id otherwise."""
        if conn is None:
            with read(self.engine) as own:
                return self.get(approval_id, conn=own)
        row = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).first()
        if row is None:
            raise NotFoundError(f"no escalated action with approval id `{approval_id}`")
        return _decode(row)

    def list(
        self,
        *,
        role: str | None = None,
        state: ApprovalState | None = None,
        plan_id: str | None = None,
        limit: int = 100,
    ) -> list[Approval]:
        """Entries, oldest first, filtered by role, state and plan."""
        q = sa.select(approvals).order_by(approvals.c.created_at, approvals.c.id).limit(limit)
        if role is not None:
            q = q.where(approvals.c.role == role)
        if state is not None:
            q = q.where(approvals.c.state == state.value)
        if plan_id is not None:
            q = q.where(approvals.c.plan_id == plan_id)
        with read(self.engine) as conn:
            return [_decode(r) for r in conn.execute(q)]

    def pending_count(self) -> int:
        """How many entries wait for an approver."""
        with read(self.engine) as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        approvals.c.state == ApprovalState.PENDING.value
                    )
                ).scalar_one()
            )

    def decide(
        self,
        conn: Connection,
        approval_id: str,
        *,
        state: ApprovalState,
        approver: str,
        comment: str,
        at: dt.datetime,
    ) -> Approval:
        """Approve or reject a pending entry inside ``conn``'s transaction (409 if decided)."""
        current = self._locked(conn, approval_id)
        if current.state is not ApprovalState.PENDING:
            raise ConflictError(
                f"approval `{approval_id}` is already `{current.state.value}`",
                details={"state": current.state.value},
            )
        conn.execute(
            sa.update(approvals)
            .where(approvals.c.id == approval_id)
            .values(state=state.value, approver=approver, comment=comment,
                    decided_at=at.isoformat())
        )
        return self.get(approval_id, conn=conn)

    def supersede(self, conn: Connection, approval_id: str, *, by: str | None) -> Approval:
        """Mark an approved entry stale: its facts changed before it could run."""
        self._locked(conn, approval_id)
        conn.execute(
            sa.update(approvals)
            .where(approvals.c.id == approval_id)
            .values(state=ApprovalState.SUPERSEDED.value, superseded_by=by)
        )
        return self.get(approval_id, conn=conn)

    def set_dispatch(self, conn: Connection, plan_id: str) -> None:
        """Mark every entry of a plan to be dispatched as soon as it is approved."""
        conn.execute(
            sa.update(approvals).where(approvals.c.plan_id == plan_id).values(dispatch=True)
        )

    def _locked(self, conn: Connection, approval_id: str) -> Approval:
        row = conn.execute(
            sa.select(approvals).where(approvals.c.id == approval_id).with_for_update()
        ).first()
        if row is None:
            raise NotFoundError(f"no escalated action with approval id `{approval_id}`")
        return _decode(row)
