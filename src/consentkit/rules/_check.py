"""Check rule data: schema, evidence, coverage and age; and tabulate a rule set for display.

The library never prints: :func:`check_rules` returns a :class:`RulesReport` and
:func:`format_rule_table` returns rows; the CLI decides how to show them and which exit code to use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal, TypeAlias

from attrs import frozen

from ._load import JURISDICTIONS, Problem, packaged_sources, read_ruleset
from ._model import FEDERAL, FEDERAL_REQUIRED_TOPICS, REQUIRED_TOPICS, Rule, RuleSet, describe_value

__all__ = [
    "RULE_TABLE_HEADER",
    "Finding",
    "JurisdictionSummary",
    "RulesReport",
    "Severity",
    "check_rules",
    "format_rule_table",
]

Severity: TypeAlias = Literal["error", "warning"]

#: Column names for the rows of :func:`format_rule_table`.
RULE_TABLE_HEADER: tuple[str, ...] = ("id", "topic", "value", "confidence", "citations", "last reviewed")


@frozen(kw_only=True)
class Finding:
    """One result of :func:`check_rules`.

    Attributes:
        severity: ``error`` (the data must not ship) or ``warning`` (ships, but say so).
        code: a stable machine name: ``schema``, ``missing-last-reviewed``, ``missing-citation``,
            ``primary-without-primary-source``, ``missing-topic``, ``missing-file``,
            ``duplicate-id``, ``reviewed-in-future``, ``unverified``, ``stale``, ``pending``,
            ``citation-not-retrieved``.
        message: what is wrong, in words.
        source: the data file name.
        jurisdiction: the jurisdiction code, when known.
        rule_id: the rule, when the finding concerns one rule.
        field: the dotted field, when the finding concerns one field.
    """

    severity: Severity
    code: str
    message: str
    source: str
    jurisdiction: str | None = None
    rule_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [self.source]
        if self.rule_id:
            where.append(f"rule {self.rule_id}")
        if self.field:
            where.append(self.field)
        return f"{self.severity}: {', '.join(where)}: {self.message}"


@frozen(kw_only=True)
class JurisdictionSummary:
    """How many rules a jurisdiction has, by confidence."""

    jurisdiction: str
    name: str
    primary: int
    secondary: int
    unverified: int

    @property
    def total(self) -> int:
        return self.primary + self.secondary + self.unverified


@frozen(kw_only=True)
class RulesReport:
    """The outcome of :func:`check_rules`.

    Attributes:
        today: the date the check ran for.
        max_age_days: how old ``last_reviewed`` may be before a rule is stale.
        dataset_version: the dataset version from ``US.toml``, when it was checked and valid.
        findings: every finding, errors and warnings, in file order.
        summaries: rule counts by confidence, one per jurisdiction that loaded.
    """

    today: date
    max_age_days: int
    dataset_version: str | None
    findings: tuple[Finding, ...]
    summaries: tuple[JurisdictionSummary, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings do not fail a check)."""
        return not self.errors


def _from_problem(problem: Problem, jurisdiction: str | None) -> Finding:
    return Finding(
        severity="error",
        code=problem.code,
        message=problem.reason,
        source=problem.source,
        jurisdiction=jurisdiction,
        rule_id=problem.rule_id,
        field=problem.field,
    )


def _check_rule(rule: Rule, *, source: str, today: date, max_age_days: int) -> list[Finding]:
    findings: list[Finding] = []

    def add(severity: Severity, code: str, message: str, field: str | None = None) -> None:
        findings.append(
            Finding(
                severity=severity,
                code=code,
                message=message,
                source=source,
                jurisdiction=rule.jurisdiction,
                rule_id=rule.id,
                field=field,
            )
        )

    if rule.confidence != "unverified" and not rule.citations:
        add("error", "missing-citation", f"a {rule.confidence} rule needs at least one citation", "citations")
    if (
        rule.confidence == "primary"
        and rule.citations
        and all(citation.source_type == "secondary" for citation in rule.citations)
    ):
        add(
            "error",
            "primary-without-primary-source",
            "a primary rule must cite a primary source (statute, regulation, rule, case or policy)",
            "citations",
        )
    if rule.last_reviewed > today:
        add(
            "error",
            "reviewed-in-future",
            f"last_reviewed {rule.last_reviewed} is after {today}",
            "last_reviewed",
        )
    if rule.confidence == "unverified":
        detail = "no citation" if not rule.citations else "value not established by its sources"
        add(
            "warning",
            "unverified",
            f"unverified rule ({detail}); documents using it need review",
            "confidence",
        )
    age = (today - rule.last_reviewed).days
    if age > max_age_days:
        add(
            "warning",
            "stale",
            f"last reviewed {rule.last_reviewed} ({age} days ago; limit {max_age_days})",
            "last_reviewed",
        )
    for index, pending in enumerate(rule.pending, start=1):
        add("warning", "pending", f"pending change: {pending.description}", f"pending.{index}")
    for index, citation in enumerate(rule.citations, start=1):
        if citation.retrieved_on is None:
            add(
                "warning",
                "citation-not-retrieved",
                f"{citation.cite!r} was not read by the maintainers (taken from project notes)",
                f"citations.{index}",
            )
    return findings


def _check_ruleset(ruleset: RuleSet, *, today: date, max_age_days: int) -> list[Finding]:
    findings: list[Finding] = []
    for rule in ruleset.rules:
        findings += _check_rule(rule, source=ruleset.source, today=today, max_age_days=max_age_days)
    required = FEDERAL_REQUIRED_TOPICS if ruleset.jurisdiction == FEDERAL else REQUIRED_TOPICS
    for topic in required:
        if topic not in ruleset.topics:
            findings.append(
                Finding(
                    severity="error",
                    code="missing-topic",
                    message=f"no rule on required topic {topic!r}",
                    source=ruleset.source,
                    jurisdiction=ruleset.jurisdiction,
                )
            )
    return findings


def _summary(ruleset: RuleSet) -> JurisdictionSummary:
    counts = {level: 0 for level in ("primary", "secondary", "unverified")}
    for rule in ruleset.rules:
        counts[rule.confidence] += 1
    return JurisdictionSummary(jurisdiction=ruleset.jurisdiction, name=ruleset.name, **counts)


def check_rules(
    today: date, max_age_days: int = 365, *, paths: Iterable[str | Path] | None = None
) -> RulesReport:
    """Check rule data and report every problem.

    Errors (the data must not ship): schema problems (unknown topic or field, bad value, bad date,
    a missing ``last_reviewed``), a ``primary`` or ``secondary`` rule without a citation, a
    ``primary`` rule citing only secondary sources, a jurisdiction without a rule on a required
    topic, duplicate ids, a review date after ``today``, and (for the bundled data) a missing file.

    Warnings: ``unverified`` rules, rules last reviewed more than ``max_age_days`` before
    ``today``, pending changes, and citations the maintainers did not read themselves.

    Args:
        today: the date to measure staleness against (passed in, never read from the clock).
        max_age_days: how old ``last_reviewed`` may be before a rule is stale.
        paths: data files to check instead of the bundled data (each named ``<CODE>.toml``);
            when given, only those files are checked and absent jurisdictions are not reported.

    Returns:
        The report; ``report.ok`` is false when there is any error.
    """
    if max_age_days < 0:
        raise ValueError("max_age_days must be 0 or more")
    sources: list[tuple[str | None, str, bytes | None]]
    if paths is None:
        sources = [(code, name, content) for code, name, content in packaged_sources()]
    else:
        sources = []
        for raw in paths:
            path = Path(raw)
            try:
                content: bytes | None = path.read_bytes()
            except OSError:
                content = None
            sources.append((path.stem.upper(), path.name, content))

    findings: list[Finding] = []
    summaries: list[JurisdictionSummary] = []
    version: str | None = None
    for code, name, content in sources:
        known = code if code == FEDERAL or code in JURISDICTIONS else None
        if content is None:
            findings.append(
                Finding(
                    severity="error",
                    code="missing-file",
                    message="data file is missing or unreadable",
                    source=name,
                    jurisdiction=known,
                )
            )
            continue
        ruleset, problems = read_ruleset(content, source=name, expected=code)
        findings += [_from_problem(problem, known) for problem in problems]
        if ruleset is None:
            continue
        findings += _check_ruleset(ruleset, today=today, max_age_days=max_age_days)
        summaries.append(_summary(ruleset))
        if ruleset.jurisdiction == FEDERAL:
            version = ruleset.dataset_version
    return RulesReport(
        today=today,
        max_age_days=max_age_days,
        dataset_version=version,
        findings=tuple(findings),
        summaries=tuple(summaries),
    )


def format_rule_table(ruleset: RuleSet) -> list[tuple[str, ...]]:
    """One row per rule, for display: see :data:`RULE_TABLE_HEADER` for the columns.

    The value column is :func:`~._model.describe_value`; citations are joined with ``"; "``
    (``"—"`` when there are none).
    """
    rows: list[tuple[str, ...]] = []
    for rule in ruleset.rules:
        citations = "; ".join(citation.cite for citation in rule.citations) or "—"
        rows.append(
            (
                rule.id,
                rule.topic,
                describe_value(rule.value),
                rule.confidence,
                citations,
                rule.last_reviewed.isoformat(),
            )
        )
    return rows
