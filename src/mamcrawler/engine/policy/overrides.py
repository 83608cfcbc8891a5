"""``with_params(policy, overrides)``: the same policy with some parameters changed — a
simulator scenario's "what if" (``free_first.mode: floor``, a wedge reserve …). The rules
are compiled again so every ``{param: …}`` sees the new value; rule locations are kept, and
the content hash is the original's plus the overrides (records name what was in force).
An unknown concern or parameter, or a value of the wrong kind, is a ``ValueError`` naming
it. Pure; imports sibling policy modules."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mamcrawler.engine.policy.compiled import Policy, compile_policy
from mamcrawler.engine.policy.models import PolicyFile
from mamcrawler.engine.policy.vocabulary import Concern

_FILE: TypeAdapter[Any] = TypeAdapter(PolicyFile)

__all__ = ["with_params"]


def with_params(policy: Policy, overrides: Mapping[str, Mapping[str, Any]]) -> Policy:
    if not overrides:
        return policy
    files = dict(policy.files)
    for name, changes in sorted(overrides.items()):
        try:
            concern = Concern(name)
        except ValueError:
            raise ValueError(f"policy override: no concern {name!r}") from None
        current = policy.params_of(concern)
        params_type = type(current)
        unknown = sorted(set(changes) - set(params_type.model_fields))
        if unknown:
            raise ValueError(f"policy override: {name} has no parameter {', '.join(unknown)}")
        try:
            params = params_type.model_validate({**current.model_dump(), **changes})
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"policy override: {name}.{where}: {first['msg']}") from None
        file = files.get(concern) or _FILE.validate_python({"kind": concern.value})
        files[concern] = file.model_copy(update={"params": params})
    compiled = compile_policy(files, policy.sources, {}, {})
    located = {r.id: r.location for r in policy.rules}
    rules = tuple(dataclasses.replace(r, location=located.get(r.id, r.location)) for r in compiled.rules)
    body = json.dumps({k: dict(v) for k, v in overrides.items()}, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{policy.content_hash}|{body}".encode()).hexdigest()
    return dataclasses.replace(compiled, rules=rules, content_hash=digest)
