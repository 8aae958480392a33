"""Load rule files: parse them with clingo, attach the ``% @`` annotations, hash the revision.

A workspace's rules are ``rules/*.lp`` in sorted order. Each file is parsed by
``clingo.ast.parse_string``; clingo's logger messages become located ``RuleMessage`` s.
Annotations are comments right above a statement::

    % @rule cert_expired "certification {C} of vendor {V} expired on {D}"
    expired(C, V, D) :- certification(C, V), expires(C, D), now(T), D < T.

    % @goal remediate "suspend the flows of vendors whose certification expired"
    % @param vendor: iri
    % @action suspend_flow(F: iri)

Example::

    >>> text = 'p(1).\\n% @rule r "p holds for {X}"\\nq(X) :- p(X).\\n'
    >>> rs = rules_from_texts({"rules/a.lp": text})
    >>> [r.id for r in rs.rules]
    ['a:1', 'r']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import clingo
from clingo import ast

from engine.errors import Location, RuleError

ParamType = Literal["iri", "string", "int", "date", "bool"]
PARAM_TYPES: tuple[ParamType, ...] = ("iri", "string", "int", "date", "bool")
Severity = Literal["error", "warning"]
RuleKind = Literal["rule", "choice", "constraint", "fact"]

_ID = r"[A-Za-z_][A-Za-z0-9_.:-]*"
_RULE = re.compile(rf'^%\s*@rule\s+({_ID})\s+"((?:[^"\\]|\\.)*)"\s*$')
_GOAL = re.compile(r'^%\s*@goal\s+([a-z_][A-Za-z0-9_]*)(?:\s+"((?:[^"\\]|\\.)*)")?\s*$')
_DOMAIN = r"(?:\s+in\s+([a-z][A-Za-z0-9_']*))?"
_PARAM = re.compile(rf"^%\s*@param\s+([a-z_][A-Za-z0-9_]*)\s*:\s*([a-z]+){_DOMAIN}\s*$")
_ACTION = re.compile(r"^%\s*@action\s+([a-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$")
_ACTION_ARG = re.compile(rf"^\s*([A-Z][A-Za-z0-9_]*)\s*:\s*([a-z]+){_DOMAIN}\s*$")
_ANNOTATION = re.compile(r"^%\s*@([a-z]+)\b")
_CLINGO_MSG = re.compile(r"^[^:\n]*:(\d+):(\d+)(?:-\d+(?::\d+)?)?: (error|warning|info): (.*)$")


@dataclass(frozen=True, order=True)
class RuleMessage:
    """One located finding about the rules: a parse error, an unsafe variable, a typo."""

    file: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str

    @property
    def location(self) -> Location:
        """The message's place as the shared ``Location`` type."""
        return Location(file=self.file, line=self.line, column=self.column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class RuleFile:
    """One rule file's name (as shown in messages) and text."""

    name: str
    text: str


@dataclass(frozen=True)
class Rule:
    """One rule statement with its id, place and label template."""

    index: int
    id: str
    file: str
    line: int
    column: int
    label: str | None
    kind: RuleKind
    text: str
    statement: ast.AST = field(compare=False, repr=False)

    @property
    def head(self) -> ast.AST:
        """The rule head as clingo AST."""
        head: ast.AST = self.statement.head
        return head

    @property
    def body(self) -> list[ast.AST]:
        """The body literals as clingo AST."""
        return list(self.statement.body)


@dataclass(frozen=True)
class GoalDecl:
    """A goal a request may name: ``% @goal <name> "<description>"``."""

    name: str
    description: str
    file: str
    line: int


@dataclass(frozen=True)
class ParamDecl:
    """A typed request parameter: ``% @param <name>: <type> [in <class>]``.

    ``domain`` names a unary knowledge-graph predicate (an ontology class) whose members are
    the values a request will usually name: the warm solver declares only those as inputs.
    A value outside it is still answered (by a control grounded for it), only slower; the
    domain is a promise about traffic, not a type check.
    """

    name: str
    type: ParamType
    file: str
    line: int
    domain: str | None = None


@dataclass(frozen=True)
class ActionDecl:
    """An action type and its argument types: ``% @action <name>(<Var>: <type> [in <class>], ...)``.

    ``domains`` holds each argument's ``in <class>`` predicate (None: every value of the
    type), as for :class:`ParamDecl`.
    """

    name: str
    args: tuple[tuple[str, ParamType], ...]
    file: str
    line: int
    domains: tuple[str | None, ...] = ()

    def domain(self, index: int) -> str | None:
        """The domain predicate of argument ``index`` (None: any value of its type)."""
        return self.domains[index] if index < len(self.domains) else None


@dataclass(frozen=True)
class Statement:
    """Any parsed statement (rules, ``#minimize``, ``#show`` …) with the file it came from."""

    file: str
    node: ast.AST = field(compare=False, repr=False)


@dataclass(frozen=True)
class RuleSet:
    """Everything the engine knows about a workspace's rules; build with ``load_rules``."""

    files: tuple[RuleFile, ...]
    statements: tuple[Statement, ...]
    rules: tuple[Rule, ...]
    goals: tuple[GoalDecl, ...]
    params: tuple[ParamDecl, ...]
    actions: tuple[ActionDecl, ...]
    revision: str
    messages: tuple[RuleMessage, ...]

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError if none."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    @property
    def errors(self) -> tuple[RuleMessage, ...]:
        """The error-severity messages found while loading."""
        return tuple(m for m in self.messages if m.severity == "error")

    def raise_for_errors(self) -> None:
        """Raise RuleError for the first load error, if any (solving needs parseable rules)."""
        if self.errors:
            first = self.errors[0]
            raise RuleError(first.message, location=first.location, code="rule_syntax")


def load_rules(workspace: Path, *, directory: Path | None = None) -> RuleSet:
    """Load ``<workspace>/rules/*.lp`` (or ``directory``), sorted; none gives an empty set."""
    folder = directory or workspace / "rules"
    paths = sorted(folder.glob("*.lp")) if folder.is_dir() else []
    texts: dict[str, str] = {}
    for path in paths:
        try:
            texts[path.relative_to(workspace).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleError(
                f"cannot read rule file `{path.name}`: {exc}", location=Location(file=str(path))
            ) from exc
    return rules_from_texts(texts)


def rules_from_texts(files: Mapping[str, str]) -> RuleSet:
    """Build a RuleSet from ``{file name: text}``, files taken in sorted name order."""
    names = sorted(files)
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    statements: list[Statement] = []
    rules: list[Rule] = []
    goals: list[GoalDecl] = []
    params: list[ParamDecl] = []
    actions: list[ActionDecl] = []
    messages: list[RuleMessage] = []
    for name in names:
        nodes = _parse(name, files[name], messages)
        annotations = _annotations(name, files[name], messages, goals, params, actions)
        _collect(name, nodes, annotations, statements, rules, messages)
    _check_ids(rules, messages)
    return RuleSet(
        files=tuple(RuleFile(n, files[n]) for n in names),
        statements=tuple(statements),
        rules=tuple(rules),
        goals=tuple(goals),
        params=tuple(params),
        actions=tuple(actions),
        revision=digest.hexdigest(),
        messages=tuple(sorted(messages)),
    )


def clingo_messages(
    file: str, text: str, severity_floor: Severity = "warning"
) -> list[RuleMessage]:
    """Turn clingo logger text (``<string>:3:5-9: error: …`` plus notes) into RuleMessages."""
    out: list[RuleMessage] = []
    lines = text.strip().splitlines()
    for i, line in enumerate(lines):
        found = _CLINGO_MSG.match(line)
        if not found or (found.group(3) == "info" and severity_floor == "warning"):
            continue
        detail = found.group(4).strip()
        extra = [x.strip() for x in lines[i + 1 :] if not _CLINGO_MSG.match(x)][:1]
        if detail.endswith(":") and extra:
            detail = f"{detail} {extra[0]}"
        severity: Severity = "error" if found.group(3) == "error" else "warning"
        out.append(
            RuleMessage(file, int(found.group(1)), int(found.group(2)), severity, "clingo", detail)
        )
    return out


def _parse(name: str, text: str, messages: list[RuleMessage]) -> list[ast.AST]:
    nodes: list[ast.AST] = []
    logged: list[str] = []

    def logger(_code: clingo.MessageCode, message: str) -> None:
        logged.append(message)

    try:
        ast.parse_string(text, nodes.append, logger=logger, message_limit=50)
    except RuntimeError:
        found = [m for text_ in logged for m in clingo_messages(name, text_)]
        for m in found or [RuleMessage(name, 1, 1, "error", "clingo", "rule file does not parse")]:
            messages.append(
                RuleMessage(m.file, m.line, m.column, "error", "syntax_error", m.message)
            )
        return []
    return nodes


@dataclass(frozen=True)
class _RuleNote:
    line: int
    rule_id: str
    label: str


def _annotations(
    name: str,
    text: str,
    messages: list[RuleMessage],
    goals: list[GoalDecl],
    params: list[ParamDecl],
    actions: list[ActionDecl],
) -> list[_RuleNote]:
    notes: list[_RuleNote] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        kind = _ANNOTATION.match(line)
        if not kind:
            continue
        column = raw.index("%") + 1

        def bad(what: str, *, col: int = column, num: int = number) -> None:
            messages.append(RuleMessage(name, num, col, "error", "bad_annotation", what))

        if kind.group(1) == "rule":
            if m := _RULE.match(line):
                notes.append(_RuleNote(number, m.group(1), _unescape(m.group(2))))
            else:
                bad('expected `% @rule <id> "<label template>"`')
        elif kind.group(1) == "goal":
            if m := _GOAL.match(line):
                goals.append(GoalDecl(m.group(1), _unescape(m.group(2) or ""), name, number))
            else:
                bad('expected `% @goal <name> "<description>"`')
        elif kind.group(1) == "param":
            m = _PARAM.match(line)
            if m and m.group(2) in PARAM_TYPES:
                params.append(
                    ParamDecl(m.group(1), _param_type(m.group(2)), name, number, m.group(3))
                )
            else:
                bad(
                    "expected `% @param <name>: <type> [in <class>]` with a type in "
                    f"{', '.join(PARAM_TYPES)}"
                )
        elif kind.group(1) == "action":
            decl = _action(line)
            if decl is None:
                bad("expected `% @action <name>(<Var>: <type> [in <class>], ...)` with known types")
            else:
                actions.append(ActionDecl(decl[0], decl[1], name, number, decl[2]))
        else:
            bad(f"unknown annotation `@{kind.group(1)}`; expected @rule, @goal, @param or @action")
    return notes


def _action(
    line: str,
) -> tuple[str, tuple[tuple[str, ParamType], ...], tuple[str | None, ...]] | None:
    m = _ACTION.match(line)
    if not m:
        return None
    args: list[tuple[str, ParamType]] = []
    domains: list[str | None] = []
    if m.group(2).strip():
        for part in m.group(2).split(","):
            a = _ACTION_ARG.match(part)
            if not a or a.group(2) not in PARAM_TYPES:
                return None
            args.append((a.group(1), _param_type(a.group(2))))
            domains.append(a.group(3))
    return m.group(1), tuple(args), tuple(domains)


def _param_type(text: str) -> ParamType:
    for t in PARAM_TYPES:
        if t == text:
            return t
    raise ValueError(text)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _kind(node: ast.AST) -> RuleKind:
    head = node.head
    if head.ast_type == ast.ASTType.Literal and head.atom.ast_type == ast.ASTType.BooleanConstant:
        return "constraint" if not head.atom.value else "fact"
    if head.ast_type in (ast.ASTType.Aggregate, ast.ASTType.HeadAggregate, ast.ASTType.Disjunction):
        return "choice"
    return "fact" if not len(node.body) else "rule"


def _collect(
    name: str,
    nodes: list[ast.AST],
    notes: list[_RuleNote],
    statements: list[Statement],
    rules: list[Rule],
    messages: list[RuleMessage],
) -> None:
    stem = Path(name).stem
    real = [n for n in nodes if n.ast_type != ast.ASTType.Comment]
    pending = sorted(notes, key=lambda n: n.line)
    used_ids: set[str] = set()
    for node in real:
        if node.ast_type == ast.ASTType.Program:
            if node.name != "base" or len(node.parameters):
                loc = node.location.begin
                messages.append(
                    RuleMessage(
                        name,
                        loc.line,
                        loc.column,
                        "error",
                        "program_part",
                        f"program part `#program {node.name}` is not supported; "
                        "rules belong to `base`",
                    )
                )
            continue
        statements.append(Statement(name, node))
        line = node.location.begin.line
        note = None
        while pending and pending[0].line < line:
            candidate = pending.pop(0)
            if note is not None:
                messages.append(_orphan(name, note))
            note = candidate
        if node.ast_type != ast.ASTType.Rule:
            if note is not None:
                messages.append(_orphan(name, note))
            continue
        if note is None:
            rule_id = f"{stem}:{line}"
            if rule_id in used_ids:
                rule_id = f"{rule_id}:{node.location.begin.column}"
        else:
            rule_id = note.rule_id
        used_ids.add(rule_id)
        rules.append(
            Rule(
                index=len(rules),
                id=rule_id,
                file=name,
                line=line,
                column=node.location.begin.column,
                label=None if note is None else note.label,
                kind=_kind(node),
                text=str(node),
                statement=node,
            )
        )
    for note in pending:
        messages.append(_orphan(name, note))


def _orphan(name: str, note: _RuleNote) -> RuleMessage:
    return RuleMessage(
        name,
        note.line,
        1,
        "error",
        "bad_annotation",
        f"annotation `@rule {note.rule_id}` is not followed by a rule",
    )


def _check_ids(rules: list[Rule], messages: list[RuleMessage]) -> None:
    seen: dict[str, Rule] = {}
    for r in rules:
        if r.id in seen:
            first = seen[r.id]
            messages.append(
                RuleMessage(
                    r.file,
                    r.line,
                    r.column,
                    "error",
                    "duplicate_rule_id",
                    f"rule id `{r.id}` is already used at {first.file}:{first.line}",
                )
            )
        else:
            seen[r.id] = r
