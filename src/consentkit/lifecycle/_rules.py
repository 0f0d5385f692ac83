"""Small readings of the state rule data shared by the lifecycle checks."""

from __future__ import annotations

from ..errors import RulesError
from ..models import Practice
from ..rules import load_jurisdiction
from ..rules._model import MinorConsent
from ..rules._resolve import _override_value

__all__ = ["minor_consent_rule"]


def minor_consent_rule(practice: Practice, state: str) -> MinorConsent:
    """The minor-consent rule of ``state``, with the practice's override of it if any.

    Unlike :func:`~consentkit.rules._resolve.resolve_rules` this needs no clinician, so the ages
    can be read even where the clinician is not authorised.

    Raises:
        RulesError: the state has no minor-consent rule, or the practice's override is malformed.
    """
    rules = load_jurisdiction(state).for_topic("minor_consent")
    if not rules:
        raise RulesError(f"the {state} rule data has no minor_consent rule")
    rule = rules[0]
    override = next((o for o in practice.rule_overrides if o.rule_id == rule.id), None)
    value = _override_value(override, rule) if override is not None else rule.value
    assert isinstance(value, MinorConsent)
    return value
