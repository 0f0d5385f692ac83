"""Models normalise and validate; they never touch files, the clock or the locale."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentkit.models import (
    Address,
    Client,
    Connection,
    Device,
    FieldValueError,
    Money,
    Phone,
    ServiceType,
)


def test_phone_normalises_us_numbers_to_e164() -> None:
    assert Phone.parse("(601) 555-0100").e164 == "+16015550100"
    assert Phone.parse("+1 601 555 0100") == Phone.parse("601.555.0100")


@pytest.mark.parametrize("text", ["12", "555-0100", "not a phone", "+1 000 000 0000"])
def test_phone_rejects_invalid_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid phone number"):
        Phone.parse(text)


def test_money_is_exact_and_refuses_floats() -> None:
    assert Money.parse("$1,150.50").amount == Decimal("1150.50")
    assert Money.parse(75) == Money(amount=Decimal(75), currency="USD")
    with pytest.raises(ValueError):
        Money.parse(75.5)
    with pytest.raises(FieldValueError):
        Money(amount=Decimal("-1"))


def test_address_checks_state_and_zip() -> None:
    with pytest.raises(FieldValueError, match="state"):
        Address(line1="1 A St", city="X", state="XX", postal_code="39201")
    with pytest.raises(FieldValueError, match="postal_code"):
        Address(line1="1 A St", city="X", state="MS", postal_code="3920")
    assert Address(line1=" 1 A St ", city="Jackson", state="ms", postal_code="39201").one_line() == (
        "1 A St, Jackson, MS 39201"
    )


def test_models_are_frozen(example_clients: dict[str, Client]) -> None:
    client = example_clients["adult"]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        client.legal_name = "x"  # type: ignore[misc]
    changed = attrs.evolve(client, connection=Connection.PUBLIC_WIFI)
    assert changed.connection is Connection.PUBLIC_WIFI and client.connection is Connection.HOME_WIFI


def test_couple_needs_exactly_one_participant(example_clients: dict[str, Client]) -> None:
    couple = example_clients["couple"]
    with pytest.raises(FieldValueError, match="participants"):
        attrs.evolve(couple, participants=())
    with pytest.raises(FieldValueError, match="participants"):
        attrs.evolve(couple, service_type=ServiceType.INDIVIDUAL)


def test_enums_accept_spelling_variants(example_clients: dict[str, Client]) -> None:
    client = attrs.evolve(example_clients["adult"], device="Tablet", connection="public-wifi")
    assert client.device is Device.TABLET and client.connection is Connection.PUBLIC_WIFI
    with pytest.raises(FieldValueError, match="device"):
        attrs.evolve(client, device="laptop")


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2040, 12, 31)),
)
def test_age_matches_birthday_arithmetic(born: date, day: date) -> None:
    client_age = Client.age_on(SimpleNamespace(date_of_birth=born), day)  # type: ignore[arg-type]
    had_birthday = (day.month, day.day) >= (born.month, born.day)
    assert client_age == day.year - born.year - (0 if had_birthday else 1)


@given(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips_through_text(amount: Decimal) -> None:
    assert Money.parse(str(amount)).amount == amount


def test_every_field_error_is_a_consentkit_error_and_a_value_error() -> None:
    """A model built directly in Python raises an error of the library's hierarchy (and still a
    ``ValueError``, as before); the old import path from consentkit.models keeps working."""
    from consentkit.errors import ConsentKitError, LayoutError
    from consentkit.errors import FieldValueError as Same
    from consentkit.rules import Citation
    from consentkit.signing import IdentityVerification

    assert Same is FieldValueError
    for build in (
        lambda: Address(line1="1 Main St", city="Jackson", state="XX", postal_code="39201"),
        lambda: Citation(cite="", url="https://example.org", source_type="statute", retrieved_on=None),
        lambda: IdentityVerification(method=""),
    ):
        with pytest.raises(ConsentKitError) as caught:
            build()
        assert isinstance(caught.value, FieldValueError)
        assert isinstance(caught.value, ValueError)
    assert issubclass(LayoutError, ConsentKitError)
