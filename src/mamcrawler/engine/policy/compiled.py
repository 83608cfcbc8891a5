"""The compiled policy: every rule as a typed tree with parameters resolved, its layer, its
location and the policy's content hash. Built once per policy version; evaluators and
``decide`` only ever see this. Imports ``engine.rules``, ``engine.policy_models``,
``engine.params`` and ``engine.vocabulary``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mamcrawler.engine.books.ladder import Ladder
from mamcrawler.engine.policy.models import (
    AllCondition,
    AnyCondition,
    Condition,
    FactRef,
    Leaf,
    NotCondition,
    ParamRef,
    PolicyFile,
)
from mamcrawler.engine.policy.params import (
    CategoriesParams,
    CompletionParams,
    FreeFirstParams,
    LibraryParams,
    PacingParams,
    QualityParams,
    RatioParams,
    ScheduleParams,
    SeedingParams,
    SnatchParams,
    VipParams,
)
from mamcrawler.engine.policy.vocabulary import LAYER_OF, ActionName, Concern, SubjectKind
from mamcrawler.engine.rules.trees import (
    NOWHERE,
    AllOf,
    AnyOf,
    Compare,
    Location,
    Node,
    Op,
    Scalar,
    Value,
    facts_of,
    negate,
)

# Locates a YAML path (keys and indexes from the file's root) in its file.
Locator = Callable[[tuple[str | int, ...]], Location]


def nowhere(_: tuple[str | int, ...]) -> Location:
    return NOWHERE


class UnresolvedParam(Exception):
    """A ``{param: …}`` names no parameter (reported by the loader with its location)."""

    def __init__(self, name: str, location: Location) -> None:
        super().__init__(f"unknown parameter {name!r}")
        self.name = name
        self.location = location


@dataclass(frozen=True)
class CompiledAction:
    name: ActionName
    args: Mapping[str, Scalar | str]  # literals and params resolved; fact refs kept as "fact:<path>"
    tags: tuple[str, ...]


@dataclass(frozen=True)
class CompiledBlock:
    tags: frozenset[str]
    unless_tags: frozenset[str]
    scope: str  # "all" | "subject"


@dataclass(frozen=True)
class CompiledRule:
    id: str
    concern: Concern
    layer: int
    priority: int
    subject: SubjectKind
    description: str
    condition: Node
    reason: str
    flag: str | None
    block: CompiledBlock | None
    actions: tuple[CompiledAction, ...]
    location: Location
    facts: tuple[str, ...] = field(default=())
    enabled: bool = True

    @property
    def order_key(self) -> tuple[int, int, str]:
        """Layers first, then higher priority, then id: the deterministic evaluation order."""
        return (self.layer, -self.priority, self.id)


@dataclass(frozen=True)
class Policy:
    """A validated, compiled policy set."""

    files: Mapping[Concern, PolicyFile]
    rules: tuple[CompiledRule, ...]
    content_hash: str
    sources: Mapping[Concern, str]  # concern → file path as given

    def params_of(self, concern: Concern) -> Any:
        file = self.files.get(concern)
        return file.params if file is not None else _DEFAULT_PARAMS[concern]()

    @property
    def vip(self) -> VipParams:
        return self.params_of(Concern.VIP)  # type: ignore[no-any-return]

    @property
    def ratio(self) -> RatioParams:
        return self.params_of(Concern.RATIO)  # type: ignore[no-any-return]

    @property
    def snatch(self) -> SnatchParams:
        return self.params_of(Concern.SNATCH)  # type: ignore[no-any-return]

    @property
    def seeding(self) -> SeedingParams:
        return self.params_of(Concern.SEEDING)  # type: ignore[no-any-return]

    @property
    def quality(self) -> QualityParams:
        return self.params_of(Concern.QUALITY)  # type: ignore[no-any-return]

    @property
    def free_first(self) -> FreeFirstParams:
        return self.params_of(Concern.FREE_FIRST)  # type: ignore[no-any-return]

    @property
    def completion(self) -> CompletionParams:
        return self.params_of(Concern.COMPLETION)  # type: ignore[no-any-return]

    @property
    def pacing(self) -> PacingParams:
        return self.params_of(Concern.PACING)  # type: ignore[no-any-return]

    @property
    def categories(self) -> CategoriesParams:
        return self.params_of(Concern.CATEGORIES)  # type: ignore[no-any-return]

    @property
    def schedule(self) -> ScheduleParams:
        return self.params_of(Concern.SCHEDULE)  # type: ignore[no-any-return]

    @property
    def library(self) -> LibraryParams:
        return self.params_of(Concern.LIBRARY)  # type: ignore[no-any-return]

    @property
    def ladder(self) -> Ladder:
        """The §5 ladder of this policy: the one way editions are compared."""
        return Ladder.of(self.quality, self.free_first)

    def rule(self, rule_id: str) -> CompiledRule:
        return next(r for r in self.rules if r.id == rule_id)

    @property
    def version(self) -> str:
        return self.content_hash[:12]


_DEFAULT_PARAMS: dict[Concern, type] = {
    Concern.VIP: VipParams,
    Concern.RATIO: RatioParams,
    Concern.SNATCH: SnatchParams,
    Concern.SEEDING: SeedingParams,
    Concern.QUALITY: QualityParams,
    Concern.LIBRARY: LibraryParams,
    Concern.FREE_FIRST: FreeFirstParams,
    Concern.COMPLETION: CompletionParams,
    Concern.PACING: PacingParams,
    Concern.CATEGORIES: CategoriesParams,
    Concern.SCHEDULE: ScheduleParams,
}


def param_table(files: Mapping[Concern, PolicyFile]) -> dict[str, Any]:
    """Every parameter as ``concern.name`` → value (defaults for absent files included)."""
    table: dict[str, Any] = {}
    for concern, factory in _DEFAULT_PARAMS.items():
        file = files.get(concern)
        params = file.params if file is not None else factory()
        for name, value in params.model_dump(mode="json").items():
            table[f"{concern.value}.{name}"] = value
    return table


def _resolve(ref: ParamRef, concern: Concern, params: Mapping[str, Any], at: Location) -> Value:
    name = ref.param if "." in ref.param else f"{concern.value}.{ref.param}"
    if name not in params:
        raise UnresolvedParam(ref.param, at)
    value = params[name]
    return tuple(value) if isinstance(value, list) else value


def _operand(value: Any, concern: Concern, params: Mapping[str, Any], at: Location) -> tuple[Value, str | None]:
    if isinstance(value, ParamRef):
        name = value.param if "." in value.param else f"{concern.value}.{value.param}"
        return _resolve(value, concern, params, at), name
    return value, None


def compile_condition(
    cond: Condition, concern: Concern, params: Mapping[str, Any], locate: Locator, path: tuple[str | int, ...]
) -> Node:
    """YAML condition model → negation-normal-form tree with parameters resolved."""
    if isinstance(cond, AllCondition):
        return AllOf(
            tuple(compile_condition(c, concern, params, locate, (*path, "all", i)) for i, c in enumerate(cond.all))
        )
    if isinstance(cond, AnyCondition):
        return AnyOf(
            tuple(compile_condition(c, concern, params, locate, (*path, "any", i)) for i, c in enumerate(cond.any))
        )
    if isinstance(cond, NotCondition):
        return negate(compile_condition(cond.not_, concern, params, locate, (*path, "not")))
    assert isinstance(cond, Leaf)
    op_name, raw = cond.operator()
    at = locate((*path, op_name))
    value, param = _operand(raw, concern, params, at)
    op = Op(op_name)
    if op in (Op.IN, Op.NOT_IN) and not isinstance(value, tuple):
        value = (value,)
    return Compare(cond.fact, op, value, param, locate((*path, "fact")))


def compile_policy(
    files: Mapping[Concern, PolicyFile],
    sources: Mapping[Concern, str],
    locators: Mapping[Concern, Locator],
    raw_bytes: Mapping[Concern, bytes],
) -> Policy:
    """Compile every rule once. Raises ``UnresolvedParam`` for a dangling ``{param: …}``."""
    params = param_table(files)
    compiled: list[CompiledRule] = []
    for concern, file in files.items():
        locate = locators.get(concern, nowhere)
        for index, rule in enumerate(file.rules):
            path: tuple[str | int, ...] = ("rules", index)
            condition = compile_condition(rule.when, concern, params, locate, (*path, "when"))
            actions = []
            for a_index, template in enumerate(rule.then.actions):
                args: dict[str, Scalar | str] = {}
                for key, arg in template.with_.items():
                    at = locate((*path, "then", "actions", a_index, "with", key))
                    if isinstance(arg, ParamRef):
                        resolved = _resolve(arg, concern, params, at)
                        assert not isinstance(resolved, tuple)
                        args[key] = resolved
                    elif isinstance(arg, FactRef):
                        args[key] = f"fact:{arg.fact}"
                    else:
                        args[key] = arg
                actions.append(CompiledAction(template.do, args, template.tags))
            block = rule.then.block
            enabled = rule.enabled
            if isinstance(enabled, ParamRef):
                resolved_switch = _resolve(enabled, concern, params, locate((*path, "enabled")))
                enabled = bool(resolved_switch) if isinstance(resolved_switch, bool) else True
            compiled.append(
                CompiledRule(
                    id=rule.id,
                    concern=concern,
                    layer=LAYER_OF[concern],
                    priority=rule.priority,
                    subject=rule.subject,
                    description=rule.description,
                    condition=condition,
                    reason=rule.then.reason,
                    flag=rule.then.flag,
                    block=None
                    if block is None
                    else CompiledBlock(frozenset(block.tags), frozenset(block.unless_tags), block.scope),
                    actions=tuple(actions),
                    location=locate(path),
                    facts=facts_of(condition),
                    enabled=enabled,
                )
            )
    digest = hashlib.sha256()
    for concern in sorted(raw_bytes):
        digest.update(concern.value.encode() + b"\0" + raw_bytes[concern] + b"\0")
    ordered = tuple(sorted(compiled, key=lambda r: r.order_key))
    return Policy(files=dict(files), rules=ordered, content_hash=digest.hexdigest(), sources=dict(sources))
