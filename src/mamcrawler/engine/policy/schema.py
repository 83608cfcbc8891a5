"""The JSON Schema of a policy file, generated from the policy models (``policies.schema.json``
at the repository root is this output; a test fails when the two drift apart). Titles and
descriptions come from the models, so an editor shows them as hover help. Imports
pydantic and ``engine.policy_models``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from mamcrawler.engine.policy.models import PolicyFile

__all__ = ["SCHEMA_ID", "policy_schema", "policy_schema_text"]

SCHEMA_ID = "https://mamcrawler.invalid/policies.schema.json"


def policy_schema() -> dict[str, Any]:
    """One policy file: a mapping whose ``kind`` picks the concern (vip, ratio, …)."""
    schema = TypeAdapter(PolicyFile).json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mamcrawler policy file",
        "description": (
            "One YAML file of policies/: kind (the concern), params (its thresholds) and rules "
            "(when a condition over facts holds, then a reason plus a flag, a block and/or actions)."
        ),
        **schema,
    }


def policy_schema_text() -> str:
    """The schema as written to ``policies.schema.json`` (stable key order, trailing newline)."""
    return json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"
