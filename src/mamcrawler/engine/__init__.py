"""The decision core: policy models and loader, compiled rule trees, evaluators, the
quality ladder and ``decide``. Pure: no I/O, no clock, no randomness (DESIGN.md)."""

from mamcrawler.engine.actions import Action
from mamcrawler.engine.decide import decide
from mamcrawler.engine.policy.compiled import CompiledRule, Policy
from mamcrawler.engine.policy.loader import load_policy, load_policy_with_issues
from mamcrawler.engine.records import DecisionBatch, DecisionRecord, read_journal
from mamcrawler.engine.rules.evaluators import REFERENCE, Evaluator, ReferenceEvaluator, RuleTrace, explain

__all__ = [
    "REFERENCE",
    "Action",
    "CompiledRule",
    "DecisionBatch",
    "DecisionRecord",
    "Evaluator",
    "Policy",
    "ReferenceEvaluator",
    "RuleTrace",
    "decide",
    "explain",
    "load_policy",
    "load_policy_with_issues",
    "read_journal",
]
