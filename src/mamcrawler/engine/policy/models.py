"""Pydantic models of one policy file: rules, conditions, verdicts and action templates.

These models are the single source of ``policies.schema.json`` (titles and descriptions
become the editor's hover help). Parameter models per concern live in ``engine.params``.
Imports pydantic, ``engine.params`` and ``engine.vocabulary`` only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

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
from mamcrawler.engine.policy.vocabulary import ActionName, SubjectKind

SNAKE = r"^[a-z][a-z0-9_]*$"
PARAM_REF = r"^([a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*$"
FACT_PATH = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class PolicyModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ParamRef(PolicyModel):
    """A reference to a policy parameter: ``{param: floor_days}`` (this file) or
    ``{param: vip.floor_days}`` (another concern's file)."""

    param: str = Field(pattern=PARAM_REF, title="Parameter", description="Name, or concern.name.")


class FactRef(PolicyModel):
    """A reference to a fact of the subject row (only in action arguments)."""

    fact: str = Field(pattern=FACT_PATH, title="Fact", description="A fact path, e.g. account.ratio.")


ScalarValue = bool | int | float | str
Operand = Annotated[
    ScalarValue | tuple[ScalarValue, ...] | ParamRef,
    Field(description="A literal, a list of literals (for in / not_in) or {param: name}."),
]


class Leaf(PolicyModel):
    """Compare one fact with a value: exactly one operator key besides ``fact``."""

    fact: str = Field(pattern=FACT_PATH, title="Fact", description="e.g. account.vip_days_left")
    eq: Operand | None = Field(None, description="equal to")
    ne: Operand | None = Field(None, description="not equal to")
    lt: Operand | None = Field(None, description="less than")
    le: Operand | None = Field(None, description="less than or equal to")
    gt: Operand | None = Field(None, description="greater than")
    ge: Operand | None = Field(None, description="greater than or equal to")
    in_: Operand | None = Field(None, alias="in", description="one of a list")
    not_in: Operand | None = Field(None, description="none of a list")

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Leaf:
        given = [k for k in ("eq", "ne", "lt", "le", "gt", "ge", "in_", "not_in") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a condition needs exactly one operator (eq, ne, lt, le, gt, ge, in, not_in)"
                + (f", got {', '.join(g.rstrip('_') for g in given)}" if given else "")
            )
        return self

    def operator(self) -> tuple[str, Any]:
        for key in ("eq", "ne", "lt", "le", "gt", "ge", "in_", "not_in"):
            value = getattr(self, key)
            if value is not None:
                return key.rstrip("_"), value
        raise AssertionError("validated to have one operator")


class AllCondition(PolicyModel):
    """True when every listed condition is true."""

    all: tuple[Condition, ...] = Field(min_length=1)


class AnyCondition(PolicyModel):
    """True when at least one listed condition is true."""

    any: tuple[Condition, ...] = Field(min_length=1)


class NotCondition(PolicyModel):
    """The negated condition. Unknown facts stay false under negation (fail closed)."""

    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "leaf"
    tags: dict[type, str] = {AllCondition: "all", AnyCondition: "any", NotCondition: "not"}
    return tags.get(type(value), "leaf")


Condition = Annotated[
    Annotated[Leaf, Tag("leaf")]
    | Annotated[AllCondition, Tag("all")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(_condition_tag),
]


class ActionTemplate(PolicyModel):
    """An action the rule proposes; arguments are literals, params or subject facts."""

    do: ActionName = Field(title="Action", description="The imperative action to propose.")
    with_: dict[str, ScalarValue | ParamRef | FactRef] = Field(
        default_factory=dict, alias="with", title="Arguments", description="Action arguments."
    )
    tags: tuple[str, ...] = Field(
        (), description="Extra tags (e.g. helps_ratio) that blocks may test with unless_tags."
    )


class Block(PolicyModel):
    """Block proposals carrying any of ``tags`` from this layer on (unless they carry one of
    ``unless_tags``); ``scope: subject`` blocks only the matched subject's proposals."""

    tags: tuple[str, ...] = Field(min_length=1)
    unless_tags: tuple[str, ...] = ()
    scope: Literal["all", "subject"] = "all"


class Then(PolicyModel):
    """What a matching rule contributes: a reason code plus a flag, a block and/or actions."""

    reason: str = Field(pattern=SNAKE, description="Stable snake_case reason code.")
    flag: str | None = Field(None, pattern=SNAKE, description="Sets flags.<name> for later layers.")
    block: Block | None = None
    actions: tuple[ActionTemplate, ...] = ()

    @model_validator(mode="after")
    def _does_something(self) -> Then:
        if self.flag is None and self.block is None and not self.actions:
            raise ValueError("then needs at least one of flag, block or actions")
        return self


class Rule(PolicyModel):
    """One rule: when the condition holds for a subject, contribute ``then``."""

    id: str = Field(pattern=SNAKE, description="Unique across the policy set.")
    priority: int = Field(100, ge=0, le=1000, description="Higher wins within a layer.")
    description: str = Field(min_length=3, description="What it does, with its SPEC § number.")
    subject: SubjectKind = Field(description="What the rule looks at, one row at a time.")
    enabled: bool | ParamRef = Field(True, description="false, or a boolean {param: …}, switches the rule off.")
    when: Condition
    then: Then


class _File(PolicyModel):
    version: int = Field(1, ge=1, description="Format version of this file.")
    description: str = ""
    rules: tuple[Rule, ...] = ()


class VipPolicy(_File):
    """§1 VIP priority."""

    kind: Literal["vip"]
    params: VipParams = VipParams()


class RatioPolicy(_File):
    """§10 ratio emergency."""

    kind: Literal["ratio"]
    params: RatioParams = RatioParams()


class SnatchPolicy(_File):
    """The hit-and-run guard."""

    kind: Literal["snatch"]
    params: SnatchParams = SnatchParams()


class SeedingPolicy(_File):
    """§10 monitoring and seeding value."""

    kind: Literal["seeding"]
    params: SeedingParams = SeedingParams()


class QualityPolicy(_File):
    """§5 the release quality ladder and §14/§16 library comparison."""

    kind: Literal["quality"]
    params: QualityParams = QualityParams()


class LibraryPolicy(_File):
    """§11 narrator, §13 integrity, §14 duplicates, §15 metadata and §16 swaps in the library."""

    kind: Literal["library"]
    params: LibraryParams = LibraryParams()


class FreeFirstPolicy(_File):
    """§7 free-first and personal-freeleech buying."""

    kind: Literal["free_first"]
    params: FreeFirstParams = FreeFirstParams()


class CompletionPolicy(_File):
    """§8 series and §9 author completion."""

    kind: Literal["completion"]
    params: CompletionParams = CompletionParams()


class PacingPolicy(_File):
    """§6 event-aware pacing and the daily caps."""

    kind: Literal["pacing"]
    params: PacingParams = PacingParams()


class CategoriesPolicy(_File):
    """§4 the audiobook categories and timespans for the weekly sync."""

    kind: Literal["categories"]
    params: CategoriesParams = CategoriesParams()


class SchedulePolicy(_File):
    """When the daemon's jobs run and how old facts may be."""

    kind: Literal["schedule"]
    params: ScheduleParams = ScheduleParams()


PolicyFile = Annotated[
    VipPolicy
    | RatioPolicy
    | SnatchPolicy
    | SeedingPolicy
    | QualityPolicy
    | LibraryPolicy
    | FreeFirstPolicy
    | CompletionPolicy
    | PacingPolicy
    | CategoriesPolicy
    | SchedulePolicy,
    Field(discriminator="kind"),
]


class PolicyDocument(PolicyModel):
    """Wrapper used to validate one file and to generate the JSON Schema."""

    file: PolicyFile
