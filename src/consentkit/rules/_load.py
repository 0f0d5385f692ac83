"""Read rule data files (TOML) into :class:`~._model.RuleSet` objects.

This is the edge where data files become models. Problems are collected as :class:`Problem`
records naming the file, the rule id and the dotted field (``US-MS.toml, rule
US-MS.minor_consent, value.session_cap: must be a whole number of 1 or more``); the public loaders
raise :class:`~consentkit.errors.RulesError` with the first of them, and
:func:`~._check.check_rules` reports them all.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar, get_origin

import attrs
from cattrs.gen import make_dict_structure_fn, override

from .._edge import STRUCTURE_ERRORS, leaf_converter, problems
from ..errors import RulesError
from ..models import US_STATES
from ._model import (
    FEDERAL,
    TOPICS,
    VALUE_TYPES,
    RecordRetention,
    Rule,
    RuleSet,
    Topic,
    TopicValue,
)

__all__ = [
    "JURISDICTIONS",
    "Problem",
    "data_sha256",
    "dataset_version",
    "load_all",
    "load_jurisdiction",
    "load_ruleset_file",
    "parse_ruleset",
    "read_ruleset",
]

#: The 50 states and the District of Columbia, by postal code, each with a data file.
JURISDICTIONS: Mapping[str, str] = dict(US_STATES)

_DATA = "data"
_VERSION = re.compile(r"^\d{4}\.\d{1,2}\.\d+$")
_TOP_LEVEL = {"jurisdiction", "name", "rules", "dataset_version"}

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Problem:
    """One thing wrong with a data file: where it is and what is wrong (internal to the package)."""

    source: str
    reason: str
    rule_id: str | None = None
    field: str | None = None
    code: str = "schema"

    def message(self) -> str:
        where = [self.source]
        if self.rule_id:
            where.append(f"rule {self.rule_id}")
        if self.field:
            where.append(self.field)
        return f"{', '.join(where)}: {self.reason}"


# --- cattrs at the edge -----------------------------------------------------------------------

# Leaf values are normalised and validated by the models' converters and validators, which name
# the field; cattrs only shapes the nesting and rejects unknown keys. A rule's value is structured
# by topic before the rule itself (see _parse_rule).
_LITERAL = get_origin(Literal["x"])
_WRONG_SHAPE = "has the wrong shape (expected a table or a list)"
_converter = leaf_converter(
    (str, int, bool, date), predicates=(lambda t: get_origin(t) is _LITERAL, lambda t: t == TopicValue)
)
_converter.register_structure_hook(
    RecordRetention,
    make_dict_structure_fn(
        RecordRetention, _converter, _cattrs_forbid_extra_keys=True, counted_from=override(rename="from")
    ),
)


def _quoted(exc: BaseException) -> str:
    # Rule data is the maintainers' own text, not client data: the validator's words may be shown.
    return str(exc) or type(exc).__name__


def _structure(data: object, cls: type[T], prefix: tuple[str, ...]) -> tuple[T | None, list[tuple[str, str]]]:
    if not isinstance(data, dict):
        return None, [(".".join(prefix), "must be a table")]
    try:
        return _converter.structure(data, cls), []
    except STRUCTURE_ERRORS as exc:
        found = list(problems(exc, prefix, wrong_shape=_WRONG_SHAPE, other=_quoted))
        return None, found or [(".".join(prefix), str(exc))]


# --- parsing ----------------------------------------------------------------------------------


def _problem(source: str, path: str, reason: str, rule_id: str | None) -> Problem:
    code = "missing-last-reviewed" if path == "last_reviewed" and "missing" in reason else "schema"
    return Problem(source=source, reason=reason, rule_id=rule_id, field=path or None, code=code)


def _parse_rule(raw: object, index: int, *, source: str) -> tuple[Rule | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem(source=source, reason="must be a table", field=f"rules.{index}")]
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else f"rules.{index}"
    topic = raw.get("topic")
    if topic not in TOPICS:
        reason = "unknown topic (use one of: " + ", ".join(TOPICS) + ")"
        return None, [Problem(source=source, reason=reason, rule_id=rule_id, field="topic")]
    topic_name: Topic = topic
    value, value_problems = _structure(raw.get("value"), VALUE_TYPES[topic_name], ("value",))
    if "value" not in raw:
        value_problems = [("value", "required field is missing")]
    problems = [_problem(source, path, reason, rule_id) for path, reason in value_problems]
    data = dict(raw)
    data["value"] = value
    rule, rule_problems = _structure(data, Rule, ())
    # With a broken value, the rule's own "value" complaint would only repeat the problems above.
    problems += [
        _problem(source, path, reason, rule_id)
        for path, reason in rule_problems
        if not (value is None and path == "value")
    ]
    return (rule if not problems else None), problems


def parse_ruleset(
    data: Mapping[str, Any], *, source: str = "<input>"
) -> tuple[RuleSet | None, list[Problem]]:
    """Build a :class:`RuleSet` from parsed TOML, collecting every problem instead of stopping.

    Rules with problems are left out of the returned rule set; the rule set is ``None`` only when
    the file's header (jurisdiction, name, rules list) is unusable.
    """
    problems: list[Problem] = []
    for key in sorted(set(data) - _TOP_LEVEL):
        problems.append(Problem(source=source, reason="unknown field", field=key))
    code = data.get("jurisdiction")
    if not isinstance(code, str) or (code != FEDERAL and code not in JURISDICTIONS):
        problems.append(
            Problem(source=source, reason="must be US or a state/DC postal code", field="jurisdiction")
        )
        return None, problems
    expected_name = "United States (federal baseline)" if code == FEDERAL else JURISDICTIONS[code]
    name = data.get("name")
    if name != expected_name:
        problems.append(Problem(source=source, reason=f"must be {expected_name!r}", field="name"))
    version = data.get("dataset_version")
    if code == FEDERAL:
        if not isinstance(version, str) or not _VERSION.match(version):
            problems.append(
                Problem(source=source, reason="must be a version like 2026.11.0", field="dataset_version")
            )
            version = None
    elif version is not None:
        problems.append(
            Problem(source=source, reason="only US.toml carries the dataset version", field="dataset_version")
        )
        version = None
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        problems.append(Problem(source=source, reason="must be a list of [[rules]] tables", field="rules"))
        return None, problems

    rules: list[Rule] = []
    seen: set[str] = set()
    prefix = f"{FEDERAL}." if code == FEDERAL else f"{FEDERAL}-{code}."
    for index, raw in enumerate(raw_rules, start=1):
        rule, rule_problems = _parse_rule(raw, index, source=source)
        problems += rule_problems
        if rule is None:
            continue
        if not rule.id.startswith(prefix):
            problems.append(
                Problem(source=source, reason=f"must start with {prefix!r}", rule_id=rule.id, field="id")
            )
            continue
        if rule.id in seen:
            problems.append(
                Problem(
                    source=source,
                    reason="duplicate rule id",
                    rule_id=rule.id,
                    field="id",
                    code="duplicate-id",
                )
            )
            continue
        seen.add(rule.id)
        rules.append(rule)
    ruleset = RuleSet(
        jurisdiction=code,
        name=name if isinstance(name, str) else expected_name,
        rules=tuple(rules),
        dataset_version=version if isinstance(version, str) else None,
        source=source,
    )
    return ruleset, problems


def read_ruleset(
    content: bytes, *, source: str, expected: str | None = None
) -> tuple[RuleSet | None, list[Problem]]:
    """Parse the bytes of one data file; ``expected`` is the jurisdiction its file name promises."""
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [Problem(source=source, reason="not UTF-8 text")]
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(source=source, reason=f"not valid TOML ({exc})")]
    ruleset, problems = parse_ruleset(data, source=source)
    if ruleset is not None and expected is not None and ruleset.jurisdiction != expected:
        problems.insert(
            0,
            Problem(
                source=source,
                reason=f"the file is named for {expected} but says {ruleset.jurisdiction}",
                field="jurisdiction",
            ),
        )
    return ruleset, problems


def _raise_first(problems: list[Problem]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise RulesError(problems[0].message() + more)


def load_ruleset_file(path: str | Path) -> RuleSet:
    """Load one rule data file from anywhere (for checking data before it ships).

    Raises:
        RulesError: the file cannot be read, is not valid TOML, or a rule is invalid (the message
            names the file, the rule id and the field).
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"{path.name}: cannot read file ({exc.strerror})") from exc
    ruleset, problems = read_ruleset(content, source=path.name, expected=path.stem.upper())
    _raise_first(problems)
    assert ruleset is not None  # no problems means a rule set
    return ruleset


def _package_file(code: str) -> bytes:
    return resources.files(__package__).joinpath(_DATA, f"{code}.toml").read_bytes()


def _normalise(code: str) -> str:
    if not isinstance(code, str):
        raise RulesError("a jurisdiction code must be text, e.g. 'MS'")
    normal = code.strip().upper()
    if normal != FEDERAL and normal not in JURISDICTIONS:
        raise RulesError(f"unknown jurisdiction {code!r} (use US or a state/DC postal code)")
    return normal


@functools.cache
def _load_packaged(code: str) -> RuleSet:
    source = f"{code}.toml"
    try:
        content = _package_file(code)
    except OSError as exc:
        raise RulesError(f"{source}: rule data file is missing from the package") from exc
    ruleset, problems = read_ruleset(content, source=source, expected=code)
    _raise_first(problems)
    assert ruleset is not None
    return ruleset


def load_jurisdiction(code: str) -> RuleSet:
    """The bundled rules of one jurisdiction (``US`` for the federal baseline).

    Results are cached: the bundled data does not change while the process runs.

    Raises:
        RulesError: the code is unknown, or the bundled file is missing or invalid.
    """
    return _load_packaged(_normalise(code))


def load_all() -> dict[str, RuleSet]:
    """The bundled rules of every jurisdiction: ``US`` first, then the states and DC by code.

    Raises:
        RulesError: a bundled file is missing or invalid.
    """
    codes = [FEDERAL, *sorted(JURISDICTIONS)]
    return {code: _load_packaged(code) for code in codes}


def dataset_version() -> str:
    """The version of the bundled rule dataset (from ``US.toml``), e.g. ``2026.11.0``.

    Raises:
        RulesError: ``US.toml`` is missing or invalid.
    """
    version = _load_packaged(FEDERAL).dataset_version
    if version is None:  # pragma: no cover - parse_ruleset refuses a US file without one
        raise RulesError("US.toml: dataset_version is missing")
    return version


@functools.cache
def data_sha256() -> str:
    """The SHA-256 of the bundled state rule data (every jurisdiction's file, and which are
    missing). Computed once per process: the data ships with the package."""
    digest = hashlib.sha256()
    for code, _name, content in packaged_sources():
        digest.update(f"{code}\0{len(content) if content is not None else -1}\0".encode())
        digest.update(content or b"")
    return digest.hexdigest()


def packaged_sources() -> Iterator[tuple[str, str, bytes | None]]:
    """(code, file name, bytes or None when missing) for every jurisdiction the package must ship."""
    for code in [FEDERAL, *sorted(JURISDICTIONS)]:
        try:
            content: bytes | None = _package_file(code)
        except OSError:
            content = None
        yield code, f"{code}.toml", content
