"""The reasoning core over clingo: load and check rules, plan, decide, prove, explain.

``load_rules`` reads a workspace's ``rules/*.lp``; ``check_rules`` reports located problems;
``Reasoner`` plans goals and decides proposed actions over a ``FactSet``, returning ``Plan`` s
with decisions and proof DAGs; ``why_not`` and ``minimal_conflict`` explain what did not happen;
``run_rule_tests`` runs the authors' YAML cases. See docs/rules.md for the rules contract.
"""

from engine.reasoning.check import check_rules
from engine.reasoning.conflict import Conflict, ConflictItem, minimal_conflict
from engine.reasoning.facts import FactSet, action_symbol, days_since_epoch, typed_value
from engine.reasoning.plan import CostItem, Decision, Plan, PlannedAction
from engine.reasoning.proof import FactNode, LabelOf, ProofGraph, Resolver, RuleNode, build_proofs
from engine.reasoning.reasoner import Reasoner
from engine.reasoning.request import Request, decide_request, plan_request
from engine.reasoning.rules import (
    ActionDecl,
    GoalDecl,
    ParamDecl,
    Rule,
    RuleMessage,
    RuleSet,
    load_rules,
    rules_from_texts,
)
from engine.reasoning.ruletest import TestReport, run_rule_tests
from engine.reasoning.solve import Answer, Solver
from engine.reasoning.transform import TraceScope
from engine.reasoning.whynot import Failure, WhyNot, why_not

__all__ = [
    "ActionDecl",
    "Answer",
    "Conflict",
    "ConflictItem",
    "CostItem",
    "Decision",
    "FactNode",
    "FactSet",
    "Failure",
    "GoalDecl",
    "LabelOf",
    "ParamDecl",
    "Plan",
    "PlannedAction",
    "ProofGraph",
    "Reasoner",
    "Request",
    "Resolver",
    "Rule",
    "RuleMessage",
    "RuleNode",
    "RuleSet",
    "Solver",
    "TestReport",
    "TraceScope",
    "WhyNot",
    "action_symbol",
    "build_proofs",
    "check_rules",
    "days_since_epoch",
    "decide_request",
    "load_rules",
    "minimal_conflict",
    "plan_request",
    "rules_from_texts",
    "run_rule_tests",
    "typed_value",
    "why_not",
]
