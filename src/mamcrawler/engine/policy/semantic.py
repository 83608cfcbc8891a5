"""Semantic checks a schema cannot express, run after a policy compiles.

- ``unknown_fact``: a condition names a field no sensor provides (see ``engine.catalogue``);
- ``fact_not_for_subject``: e.g. a torrent field in an account rule;
- ``kind_mismatch``: comparing a number field with a string, ordering a bool…;
- ``duplicate_rule_id``: two rules share an id;
- ``unknown_flag`` / ``flag_not_yet_set``: a rule reads a flag no rule sets, or one set
  only in a later layer (flags flow forward: to later layers, and inside a layer to the
  rules that read them, ordered by flag dependencies);
- ``flag_cycle``: rules of one layer that read each other's flags (no order exists);
- ``shadowed_rule``: a rule with the same subject, condition and action slots as a
  higher-priority rule in its layer can never decide anything;
- ``action_needs_subject``: e.g. AddTorrent on an account rule.
Imports sibling engine modules."""

from __future__ import annotations

from mamcrawler.engine.policy.compiled import CompiledRule, Policy
from mamcrawler.engine.policy.vocabulary import ActionName
from mamcrawler.engine.rules.strata import flag_strata
from mamcrawler.engine.rules.trees import ORDERING_OPS, AllOf, AnyOf, Compare, Node, Scalar
from mamcrawler.engine.world.catalogue import Kind, field_kind, namespaces_for
from mamcrawler.errors import Issue

_SUBJECT_ACTIONS = {
    ActionName.ADD_TORRENT: "candidate",
    ActionName.BUY_PERSONAL_FREELEECH: "candidate",
    ActionName.ADD_TO_VIP_PENDING: "candidate",
    ActionName.ADD_TO_WISHLIST: "candidate",
    ActionName.REPLACE_EDITION: "candidate",
    ActionName.RESUME_TORRENT: "torrent",
    ActionName.PAUSE_TORRENT: "torrent",
    ActionName.REANNOUNCE: "torrent",
    ActionName.REMOVE_TORRENT: "torrent",
}


def _kind_of(value: Scalar) -> Kind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    return "number"


def _leaves(node: Node) -> list[Compare]:
    if isinstance(node, Compare):
        return [node]
    assert isinstance(node, AllOf | AnyOf)
    return [leaf for child in node.children for leaf in _leaves(child)]


def _issue(rule: CompiledRule, where: Compare | None, code: str, message: str) -> Issue:
    at = where.location if where is not None and where.location.line else rule.location
    return Issue(at.file, at.line, at.col, code, f"rule {rule.id}: {message}")


def _leaf_issues(rule: CompiledRule, leaf: Compare, flags: frozenset[str], flag_layers: dict[str, int]) -> list[Issue]:
    namespace = leaf.fact.split(".", 1)[0]
    if namespace == "flags":
        name = leaf.fact.removeprefix("flags.")
        if name not in flags:
            return [_issue(rule, leaf, "unknown_flag", f"no rule sets flag {name!r}")]
        if flag_layers[name] > rule.layer:
            return [_issue(rule, leaf, "flag_not_yet_set", f"flag {name!r} is set only in a later layer")]
    kind = field_kind(leaf.fact, flags)
    if kind is None:
        return [_issue(rule, leaf, "unknown_fact", f"no fact named {leaf.fact!r}")]
    if namespace not in namespaces_for(rule.subject.value):
        return [
            _issue(rule, leaf, "fact_not_for_subject", f"{leaf.fact} is not available to {rule.subject.value} rules")
        ]
    values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    for value in values:
        if _kind_of(value) != kind:
            return [_issue(rule, leaf, "kind_mismatch", f"{leaf.fact} is a {kind}, compared with {value!r}")]
    if leaf.op in ORDERING_OPS and kind != "number":
        return [_issue(rule, leaf, "kind_mismatch", f"{leaf.op.value} needs a number, {leaf.fact} is a {kind}")]
    return []


def _slots(rule: CompiledRule) -> frozenset[str]:
    return frozenset(a.name.value for a in rule.actions)


def semantic_issues(policy: Policy) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, CompiledRule] = {}
    flag_layers: dict[str, int] = {}
    for rule in policy.rules:
        if rule.flag:
            flag_layers[rule.flag] = min(flag_layers.get(rule.flag, rule.layer), rule.layer)
    flags = frozenset(flag_layers)
    for rule in policy.rules:
        if rule.id in seen:
            issues.append(_issue(rule, None, "duplicate_rule_id", f"id also used at {seen[rule.id].location}"))
        seen.setdefault(rule.id, rule)
        for leaf in _leaves(rule.condition):
            issues.extend(_leaf_issues(rule, leaf, flags, flag_layers))
        for action in rule.actions:
            needed = _SUBJECT_ACTIONS.get(action.name)
            if needed and needed != rule.subject.value:
                issues.append(_issue(rule, None, "action_needs_subject", f"{action.name.value} needs a {needed} rule"))
    _, cyclic = flag_strata(policy.rules)
    for rule in policy.rules:
        if rule.id in cyclic:
            issues.append(
                _issue(rule, None, "flag_cycle", "reads a flag that depends on its own (no evaluation order)")
            )
    for i, rule in enumerate(policy.rules):
        for earlier in policy.rules[:i]:
            if (
                earlier.enabled
                and rule.enabled
                and earlier.layer == rule.layer
                and earlier.subject == rule.subject
                and earlier.condition == rule.condition
                and rule.actions
                and _slots(rule) <= _slots(earlier)
            ):
                issues.append(
                    _issue(rule, None, "shadowed_rule", f"never decides: {earlier.id} has the same condition")
                )
                break
    return issues
