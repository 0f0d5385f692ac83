"""Turn resolved state rules into the clauses a template shows, in the template set's language.

The sentences live in the set's ``clauses.toml`` (section ``[rules]``); this module only chooses
which sentence applies and fills its ``{placeholders}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import TemplateError
from ..formatting import format_list
from ..models import US_STATES
from ..rules._model import (
    BoardNotice,
    CrisisResources,
    DutyToWarn,
    MinorConsent,
    Recording,
    RecordRetention,
    TelehealthConsent,
)
from ..rules._resolve import ResolvedRules
from ._context import RuleSlots
from ._templates import TemplateSet, fill_placeholders

__all__ = ["slots_from_rules"]


def _clause(templates: TemplateSet, key: str, **values: object) -> str:
    try:
        text = str(templates.clauses["rules"][key])
    except KeyError as exc:
        raise TemplateError(f"clauses.toml lacks rules.{key}", template=templates.locale) from exc
    return fill_placeholders(text, values, where=f"rules.{key}", template=templates.locale)


def _excluded_service(templates: TemplateSet, item: str) -> str:
    """The set's word for a service a minor's own consent does not cover (the data's words if none).

    The stock sets hold every item the bundled data uses (a test checks); a practice override may
    name others, which appear as written.
    """
    words = templates.clauses.get("vocabulary", {}).get("excluded_service", {})
    return str(words.get(item, item))


def _minor(resolved: ResolvedRules, templates: TemplateSet, state: str) -> str:
    rule = resolved.minor_consent
    if not resolved.minor_self_consent or rule.self_consent_age is None:
        return _clause(templates, "minor_guardian", state=state, majority=rule.age_of_majority)
    limits = ""
    if rule.session_cap:
        limits += _clause(templates, "minor_self_sessions", n=rule.session_cap)
    if rule.day_cap:
        limits += _clause(templates, "minor_self_days", n=rule.day_cap)
    if rule.per_week_cap:
        limits += _clause(templates, "minor_self_week", n=rule.per_week_cap)
    excludes = ""
    if rule.excludes:
        items = [_excluded_service(templates, item) for item in rule.excludes]
        excludes = _clause(templates, "minor_self_excludes", items=format_list(items, templates.locale))
    if rule.self_consent_age == 0:  # the law sets no minimum age (e.g. Virginia, Vermont)
        return _clause(templates, "minor_self_any_age", state=state, limits=limits, excludes=excludes)
    return _clause(
        templates, "minor_self", state=state, age=rule.self_consent_age, limits=limits, excludes=excludes
    )


def _boards(board: BoardNotice, templates: TemplateSet) -> str:
    """One sentence naming the board (or, where several license the professions, each board)."""
    named = []
    for entry in board.boards:
        contact = ", ".join(x for x in (entry.phone, entry.website, entry.address) if x)
        named.append((entry.name, f" ({contact})" if contact else ""))
    if len(named) == 1:
        return _clause(templates, "board_generic", board=named[0][0], contact=named[0][1])
    listed = "; ".join(name + contact for name, contact in named)  # "; ": the contacts hold commas
    return _clause(templates, "board_several", boards=listed)


def _retention(
    values: Mapping[str, object], federal: Mapping[str, object], templates: TemplateSet, majority: int
) -> str:
    state_rule = values.get("record_retention")
    floor = federal.get("record_retention")
    years = [r.adult_years for r in (state_rule, floor) if isinstance(r, RecordRetention) and r.adult_years]
    if not years:
        return templates.default("retention")
    start = state_rule.counted_from if isinstance(state_rule, RecordRetention) else "termination"
    text = _clause(
        templates, "retention_adult", years=max(years), start=_clause(templates, f"retention_start_{start}")
    )
    if isinstance(state_rule, RecordRetention):
        if state_rule.minor_years_past_majority is not None:
            text += _clause(
                templates,
                "retention_minor_years",
                years=state_rule.minor_years_past_majority,
                majority=majority,
            )
        else:
            # The law read sets no separate period for minors (the rule's minor_rule says so, for
            # the people who review the data); the client is told the same period applies.
            text += _clause(templates, "retention_minor_same")
    return text


def slots_from_rules(resolved: ResolvedRules, templates: TemplateSet) -> RuleSlots:
    """The template's rule slots for ``resolved``, worded from ``templates``' clauses.

    Raises:
        TemplateError: the set's ``clauses.toml`` lacks a sentence or uses an unknown placeholder.
    """
    state = US_STATES[resolved.state]
    values = resolved.values
    defaults = RuleSlots.defaults(resolved.state, templates)
    duty = values.get("duty_to_warn")
    kind = duty.kind if isinstance(duty, DutyToWarn) else "unclear"
    duty_text = _clause(templates, f"duty_{'unclear' if kind == 'none' else kind}", state=state)
    board = values.get("board_notice")
    board_text = ""
    if isinstance(board, BoardNotice) and board.required:
        board_text = board.prescribed_text or _boards(board, templates)
    recording = values.get("recording")
    consent = recording.consent if isinstance(recording, Recording) else "all_party"
    recording_text = _clause(templates, f"recording_{consent}", state=state)
    lines = list(defaults.crisis_lines)
    state_crisis = values.get("crisis_resources")
    if isinstance(state_crisis, CrisisResources):
        lines.extend((line.name, line.contact) for line in state_crisis.lines)
    notices: list[str] = []
    consent_rule = values.get("telehealth_consent")
    if isinstance(consent_rule, TelehealthConsent):
        if consent_rule.per_session_checks:
            checks = format_list(
                [_clause(templates, f"check_{c}") for c in consent_rule.per_session_checks], templates.locale
            )
            notices.append(_clause(templates, "per_session_checks", checks=checks))
        if consent_rule.form in ("verbal", "either"):
            notices.append(_clause(templates, "consent_verbal"))
    minor_rule = resolved.minor_consent
    assert isinstance(minor_rule, MinorConsent)
    return RuleSlots(
        state=resolved.state,
        minor_consent=_minor(resolved, templates, state),
        minor_self_consent=resolved.minor_self_consent,
        duty_to_warn=duty_text,
        board_notice=board_text,
        retention=_retention(values, resolved.federal, templates, minor_rule.age_of_majority),
        recording=recording_text,
        crisis_lines=tuple(lines),
        notices=tuple(notices),
        age_of_majority=minor_rule.age_of_majority,
        sources=tuple(
            (rule.id, cite)
            for rule in resolved.applied
            for cite in rule.citations[:1]
            if rule.jurisdiction == resolved.state
        ),
    )
