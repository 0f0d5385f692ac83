"""State rule data: what the law of each jurisdiction says about consent paperwork, with its sources.

Every rule carries its citations, effective date, the date it was last reviewed and a confidence
level (``primary``, ``secondary`` or ``unverified``). The data ships as one TOML file per
jurisdiction (the 50 states, DC, and ``US`` for the federal baseline) and has its own version,
:func:`dataset_version`. The rules are research by the consentkit maintainers, not legal advice and
not attorney-reviewed; see ``docs/state-rules.md``.

Typical use::

    from datetime import date
    from consentkit.rules import check_rules, load_jurisdiction

    ms = load_jurisdiction("MS")
    for rule in ms.for_topic("minor_consent"):
        print(rule.id, rule.confidence, rule.value)

    report = check_rules(date(2026, 11, 27))
    assert report.ok, report.errors
"""

from ._check import (
    RULE_TABLE_HEADER,
    Finding,
    JurisdictionSummary,
    RulesReport,
    check_rules,
    format_rule_table,
)
from ._load import JURISDICTIONS, data_sha256, dataset_version, load_all, load_jurisdiction, load_ruleset_file
from ._model import (
    CONFIDENCE_LEVELS,
    FEDERAL,
    FEDERAL_REQUIRED_TOPICS,
    REQUIRED_TOPICS,
    SOURCE_TYPES,
    TOPICS,
    Board,
    BoardNotice,
    Citation,
    Confidence,
    Conflict,
    CrisisResources,
    DutyToWarn,
    Licensure,
    MinorConsent,
    Pending,
    Recording,
    RecordRetention,
    Rule,
    RuleSet,
    TelehealthConsent,
    TelehealthTraining,
    describe_value,
)
from ._resolve import (
    AppliedRule,
    ResolvedRules,
    board_notice_problems,
    check_jurisdiction,
    minor_consent_rule,
    resolve_rules,
)

__all__ = [
    "CONFIDENCE_LEVELS",
    "FEDERAL",
    "FEDERAL_REQUIRED_TOPICS",
    "JURISDICTIONS",
    "REQUIRED_TOPICS",
    "RULE_TABLE_HEADER",
    "SOURCE_TYPES",
    "TOPICS",
    "AppliedRule",
    "Board",
    "BoardNotice",
    "Citation",
    "Confidence",
    "Conflict",
    "CrisisResources",
    "DutyToWarn",
    "Finding",
    "JurisdictionSummary",
    "Licensure",
    "MinorConsent",
    "Pending",
    "RecordRetention",
    "Recording",
    "ResolvedRules",
    "Rule",
    "RuleSet",
    "RulesReport",
    "TelehealthConsent",
    "TelehealthTraining",
    "board_notice_problems",
    "check_jurisdiction",
    "check_rules",
    "data_sha256",
    "dataset_version",
    "describe_value",
    "format_rule_table",
    "load_all",
    "load_jurisdiction",
    "load_ruleset_file",
    "minor_consent_rule",
    "resolve_rules",
]
