"""Turn resolved state rules into the clauses a template shows, in the template set's language.

The sentences live in the set's ``clauses.toml``; this module only chooses which sentence applies
and fills its ``{placeholders}``. The choice follows one policy (``docs/state-rules.md``, "What a
packet says about the law"):

- a sentence that says what a state's law is (``[law]``, "Under Mississippi law ...") is used only
  when the rule behind it :attr:`~consentkit.rules.AppliedRule.states_law`: read in the primary
  text, its value what that text says, not replaced by a practice override;
- otherwise the packet uses the ``[rules]`` sentence, worded as the practice's own policy or
  neutrally, so that it is true whatever the law turns out to be.

Some law sentences are written for one rule (``[law.duty_to_warn."US-MS.duty_to_warn"]``) because
the laws differ in who may be told what; each records the fields of the rule value it was written
for (``value = "kind=permissive; basis=statute"``), and a sentence whose rule value has changed
since is not used (the neutral sentence is, with a warning). An entry may list ``professions`` when
the law it states reaches only some professions (Georgia's board rule, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._catalogue import fill_placeholders
from ..errors import TemplateError
from ..formatting import format_list
from ..models import Profession
from ..rules import (
    Board,
    BoardNotice,
    CrisisResources,
    DutyToWarn,
    MinorConsent,
    Recording,
    RecordRetention,
    ResolvedRules,
    TelehealthConsent,
    describe_value,
)
from ._context import RuleSlots
from ._templates import TemplateSet

__all__ = ["rule_sentence", "slots_from_rules"]


def _clause(templates: TemplateSet, key: str, *, section: str = "rules", **values: object) -> str:
    """The sentence ``key`` of the set's ``[section]`` table, its placeholders filled."""
    table = templates.clauses.get(section)
    if not isinstance(table, dict) or not isinstance(table.get(key), str):
        raise TemplateError(f"clauses.toml lacks {section}.{key}", template=templates.locale)
    return fill_placeholders(table[key], values, where=f"{section}.{key}", template=templates.locale)


def _entry(templates: TemplateSet, group: str, rule_id: str) -> dict[str, Any] | None:
    entries = templates.clauses.get("law", {}).get(group, {})
    entry = entries.get(rule_id) if isinstance(entries, dict) else None
    if entry is None:
        return None
    if not (
        isinstance(entry, dict)
        and isinstance(entry.get("text"), str)
        and isinstance(entry.get("value"), str)
        and isinstance(entry.get("professions", []), list)
    ):
        raise TemplateError(
            f"law.{group}.{rule_id} must be a table with text, value and (optionally) professions",
            template=templates.locale,
        )
    return entry


def rule_sentence(
    templates: TemplateSet, group: str, rule_id: str, value: object, profession: Profession | None = None
) -> str | None:
    """The law sentence written for one rule (``[law.<group>."<rule id>"]``), if the set has one,
    it was written for the rule's current ``value``, and (when it lists ``professions``, because the
    law reaches only those) the clinician's profession is among them.

    Raises:
        TemplateError: the entry is malformed.
    """
    entry = _entry(templates, group, rule_id)
    if entry is None or not _written_for(entry, value):
        return None
    professions = entry.get("professions") or []
    if professions and (profession is None or profession.value not in professions):
        return None
    where = f"law.{group}.{rule_id}"
    return fill_placeholders(str(entry["text"]), {}, where=where, template=templates.locale)


def stale_rule_sentence(templates: TemplateSet, group: str, rule_id: str, value: object) -> bool:
    """Whether the set has a law sentence for this rule that was written for another value."""
    entry = _entry(templates, group, rule_id)
    return entry is not None and not _written_for(entry, value)


def _written_for(entry: dict[str, Any], value: object) -> bool:
    """Whether the rule's value still has every ``field=value`` the entry's ``value`` lists (the
    parts of :func:`~consentkit.rules.describe_value` the sentence rests on)."""
    parts = set(describe_value(value).split("; "))  # type: ignore[arg-type]
    return all(part in parts for part in str(entry["value"]).split("; ") if part)


def _excluded_service(templates: TemplateSet, item: str) -> str:
    """The set's word for a service a minor's own consent does not cover (the data's words if none).

    The stock sets hold every item the bundled data uses (a test checks); a practice override may
    name others, which appear as written.
    """
    words = templates.clauses.get("vocabulary", {}).get("excluded_service", {})
    return str(words.get(item, item))


@attrs.frozen
class _Wording:
    """Which clause table a topic's sentences come from for one packet."""

    templates: TemplateSet
    law: bool
    state: str

    def sentence(self, key: str, **values: object) -> str:
        section = "law" if self.law else "rules"
        return _clause(self.templates, key, section=section, **{"state": self.state, **values})


def _minor(resolved: ResolvedRules, wording: _Wording) -> str:
    templates = wording.templates
    rule = resolved.minor_consent
    if not resolved.minor_self_consent or rule.self_consent_age is None:
        return wording.sentence("minor_guardian", majority=rule.age_of_majority)
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
        return wording.sentence("minor_self_any_age", limits=limits, excludes=excludes)
    return wording.sentence("minor_self", age=rule.self_consent_age, limits=limits, excludes=excludes)


def _minor_self_texts(
    resolved: ResolvedRules, templates: TemplateSet, law: bool, warnings: list[str]
) -> tuple[str, str]:
    """What a parent is told, and who pays, for a minor who consents alone: the law sentences
    written for the state's rule (when it states law), then the practice's policy."""
    applied = resolved.rule("minor_consent")
    parents = _clause(templates, "minor_parents")
    payment = _clause(templates, "minor_payment")
    if applied is None or not law:
        return parents, payment
    value = resolved.minor_consent
    for group in ("minor_parents", "minor_payment"):
        if stale_rule_sentence(templates, group, applied.id, value):
            warnings.append(
                f"clauses.toml law.{group} for {applied.id} was written for another value of the rule; "
                "the practice's policy wording is used instead"
            )
    law_parents = rule_sentence(templates, "minor_parents", applied.id, value, resolved.profession)
    law_payment = rule_sentence(templates, "minor_payment", applied.id, value, resolved.profession)
    return (
        f"{law_parents} {parents}" if law_parents else parents,
        f"{law_payment} {payment}" if law_payment else payment,
    )


def _duty(resolved: ResolvedRules, templates: TemplateSet, warnings: list[str]) -> str:
    """The duty-to-warn sentence written for the state's rule when it states law, else neutral."""
    applied = resolved.rule("duty_to_warn")
    value = resolved.values.get("duty_to_warn")
    if applied is not None and applied.states_law and isinstance(value, DutyToWarn):
        sentence = rule_sentence(templates, "duty_to_warn", applied.id, value, resolved.profession)
        if sentence:
            return sentence
        if stale_rule_sentence(templates, "duty_to_warn", applied.id, value):
            warnings.append(
                f"clauses.toml law.duty_to_warn for {applied.id} was written for another value of the "
                "rule; the neutral wording is used instead"
            )
    return _clause(templates, "duty")


def _contact(board: Board) -> str:
    return ", ".join(x for x in (board.address, board.phone, board.email, board.website) if x)


def _boards(notice: BoardNotice, boards: tuple[Board, ...], templates: TemplateSet) -> str:
    """The complaint notice: each board's prescribed text (followed by its contact details when the
    law asks for details the text lacks), or one sentence naming the board(s)."""
    if not any(b.prescribed_text for b in boards):
        if len(boards) == 1:
            return _clause(templates, "board_generic", board=boards[0].name, contact=_paren(boards[0]))
        listed = "; ".join(b.name + _paren(b) for b in boards)  # "; ": the contacts hold commas
        return _clause(templates, "board_several", boards=listed)
    needs_contact = any(e in notice.elements for e in ("address", "phone", "email", "website"))
    texts = []
    for board in boards:
        if board.prescribed_text:
            texts.append(board.prescribed_text)
            if needs_contact:
                texts.append(_clause(templates, "board_generic", board=board.name, contact=_paren(board)))
        else:
            texts.append(_clause(templates, "board_generic", board=board.name, contact=_paren(board)))
    intro = _clause(templates, "prescribed_in_english")
    body = "\n".join(texts)
    return f"{intro}\n{body}" if intro else body


def _paren(board: Board) -> str:
    contact = _contact(board)
    return f" ({contact})" if contact else ""


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


def _recording(resolved: ResolvedRules, templates: TemplateSet, state: str) -> str:
    recording = resolved.values.get("recording")
    if isinstance(recording, Recording) and resolved.states_law("recording"):
        return _clause(templates, f"recording_{recording.consent}", section="law", state=state)
    return _clause(templates, "recording")


def slots_from_rules(
    resolved: ResolvedRules,
    templates: TemplateSet,
    *,
    boards: tuple[Board, ...] | None = None,
    warnings: list[str] | None = None,
) -> RuleSlots:
    """The template's rule slots for ``resolved``, worded from ``templates``' clauses.

    Args:
        resolved: the resolved rules.
        templates: the template set whose clauses word them.
        boards: the licensing boards to name in the complaint notice (default: those the resolution
            chose for the clinician's profession).
        warnings: a list to which wording warnings are added (e.g. a law sentence written for an
            earlier value of its rule).

    Raises:
        TemplateError: the set's ``clauses.toml`` lacks a sentence or uses an unknown placeholder.
    """
    notes: list[str] = warnings if warnings is not None else []
    state = templates.state_name(resolved.state)
    values = resolved.values
    defaults = RuleSlots.defaults(resolved.state, templates)
    board = values.get("board_notice")
    board_text = ""
    if isinstance(board, BoardNotice) and board.required:
        chosen = boards if boards is not None else resolved.boards
        if chosen:
            board_text = _boards(board, chosen, templates)
        applied = resolved.rule("board_notice")
        if applied is not None and applied.states_law:
            extra = rule_sentence(templates, "board_notice", applied.id, board, resolved.profession)
            if extra:
                board_text = f"{board_text}\n{extra}" if board_text else extra
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
    minor_law = resolved.states_law("minor_consent")
    parents = payment = ""
    if resolved.minor_self_consent:
        parents, payment = _minor_self_texts(resolved, templates, minor_law, notes)
    return RuleSlots(
        state=resolved.state,
        minor_consent=_minor(resolved, _Wording(templates, minor_law, state)),
        minor_self_consent=resolved.minor_self_consent,
        minor_parents=parents,
        minor_payment=payment,
        duty_to_warn=_duty(resolved, templates, notes),
        board_notice=board_text,
        retention=_retention(values, resolved.federal, templates, minor_rule.age_of_majority),
        recording=_recording(resolved, templates, state),
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


def law_sentence_table(templates: TemplateSet) -> dict[str, dict[str, Any]]:
    """The set's per-rule law sentences, by group then rule id (for checks and tests)."""
    law = templates.clauses.get("law", {})
    return {k: v for k, v in law.items() if isinstance(v, dict)}
