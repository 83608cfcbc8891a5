"""Loading a policy directory: YAML 1.2 → validated models → compiled ``Policy``.

Every problem in every file is collected and reported as ``file:line:col: code: message``
(sorted, like a compiler), never just the first one and never as a traceback: YAML
syntax, unknown keys, wrong values, a missing or repeated ``kind``, dangling
``{param: …}`` references, numbers out of range (``limits``), and then the semantic
checks of ``engine.semantic``.
Reads files only; writes nothing. Imports pydantic and sibling engine modules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mamcrawler.engine.policy.compiled import Locator, Policy, UnresolvedParam, compile_policy
from mamcrawler.engine.policy.limits import range_issues
from mamcrawler.engine.policy.models import PolicyFile
from mamcrawler.engine.policy.semantic import semantic_issues
from mamcrawler.engine.policy.vocabulary import Concern
from mamcrawler.engine.policy.yaml_source import LocatedDocument, load_located
from mamcrawler.errors import Issue, PolicyError

POLICY_FILE: TypeAdapter[Any] = TypeAdapter(PolicyFile)

_CODES = {
    "extra_forbidden": "unknown_key",
    "missing": "missing_key",
    "union_tag_invalid": "unknown_kind",
    "union_tag_not_found": "missing_kind",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "string_pattern_mismatch": "invalid_name",
    "value_error": "invalid_value",
}


def validation_issues(error: ValidationError, doc: LocatedDocument) -> list[Issue]:
    """Turn pydantic errors into located issues (shared with the scenario loader)."""
    issues = []
    for e in error.errors(include_url=False):
        loc = tuple(e["loc"])
        where = doc.locate(loc)
        code = _CODES.get(e["type"], e["type"])
        field = ".".join(str(p) for p in loc if not (isinstance(p, str) and p in _MODEL_TAGS))
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        issues.append(Issue(where.file, where.line, where.col, code, f"{field}: {message}" if field else message))
    return issues


_MODEL_TAGS = frozenset({"leaf", "all", "any", "not", *(c.value for c in Concern), "function-after"})


def policy_files(directory: Path) -> list[Path]:
    """The policy files of a directory: ``*.yaml`` / ``*.yml`` at its top level, sorted."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_policy_with_issues(directory: Path) -> tuple[Policy | None, list[Issue]]:
    """Load and check a policy directory; a policy is returned only when no issue was found."""
    issues: list[Issue] = []
    if not directory.is_dir():
        return None, [Issue(str(directory), 1, 1, "not_a_directory", "policy directory not found")]
    files: dict[Concern, Any] = {}
    sources: dict[Concern, str] = {}
    locators: dict[Concern, Locator] = {}
    raw: dict[Concern, bytes] = {}
    for path in policy_files(directory):
        doc, problems = load_located(path)
        issues.extend(problems)
        if doc is None:
            continue
        try:
            model = POLICY_FILE.validate_python(doc.data)
        except ValidationError as err:
            issues.extend(validation_issues(err, doc))
            continue
        out_of_range = range_issues(model, doc.locate)
        if out_of_range:
            issues.extend(out_of_range)
            continue
        concern = Concern(model.kind)
        if concern in files:
            at = doc.locate(("kind",))
            issues.append(
                Issue(at.file, at.line, at.col, "duplicate_kind", f"kind {concern.value!r} also in {sources[concern]}")
            )
            continue
        files[concern], sources[concern], locators[concern] = model, str(path), doc.locate
        raw[concern] = path.read_bytes()
    if not files and not issues:
        issues.append(Issue(str(directory), 1, 1, "no_policy_files", "no *.yaml policy files in the directory"))
    if issues:
        return None, sorted(issues)
    try:
        policy = compile_policy(files, sources, locators, raw)
    except UnresolvedParam as err:
        at = err.location
        return None, [Issue(at.file, at.line, at.col, "unknown_param", str(err))]
    issues.extend(semantic_issues(policy))
    return (None, sorted(issues)) if issues else (policy, [])


def load_policy(directory: Path | str) -> Policy:
    """Load a policy directory or raise ``PolicyError`` carrying every issue."""
    policy, issues = load_policy_with_issues(Path(directory))
    if policy is None:
        raise PolicyError(issues)
    return policy


def params_locations(policy: Policy) -> Mapping[Concern, str]:
    return policy.sources
