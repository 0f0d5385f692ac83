"""Locale-aware formatting of dates, times, money, lists and phone numbers.

Every function takes the locale explicitly (a BCP 47 tag such as ``en-US`` or ``es-US``); nothing
depends on the machine's locale settings.

>>> from datetime import date
>>> format_date(date(2026, 3, 15), "en-US")
'March 15, 2026'
>>> format_date(date(2026, 3, 15), "es-US")
'15 de marzo de 2026'
>>> from decimal import Decimal
>>> format_money(Decimal("75"), "USD", "en-US")
'$75.00'
>>> format_list(["Ana", "Luis", "Marta"], "es-US")
'Ana, Luis y Marta'
>>> format_list(["Ana", "Luis", "Marta"], "en-US")
'Ana, Luis, and Marta'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers

from .errors import InputError

__all__ = [
    "babel_locale",
    "format_date",
    "format_datetime",
    "format_language",
    "format_list",
    "format_money",
    "format_percent",
    "format_phone",
    "format_time_zone",
]


@functools.lru_cache(maxsize=128)
def babel_locale(tag: str) -> Locale:
    """The babel locale for a BCP 47 tag (``es-US`` -> ``es_US``).

    Raises:
        InputError: babel does not know the locale.
    """
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise InputError(f"unknown locale {tag!r}", field="locale") from exc


def format_date(value: date, locale: str) -> str:
    """A date in long form: ``March 15, 2026`` / ``15 de marzo de 2026``."""
    return babel_dates.format_date(value, format="long", locale=babel_locale(locale))


def format_datetime(value: datetime, time_zone: str, locale: str) -> str:
    """A moment in the given IANA time zone, long date and short time with the zone's abbreviation.

    ``value`` must be timezone-aware (UTC from a signing page, for instance).
    """
    if value.tzinfo is None:
        raise ValueError("format_datetime needs a timezone-aware datetime")
    zone = ZoneInfo(time_zone)
    local = value.astimezone(zone)
    loc = babel_locale(locale)
    day = babel_dates.format_date(local.date(), format="long", locale=loc)
    clock = babel_dates.format_time(local, format="short", tzinfo=zone, locale=loc)
    abbreviation = local.tzname() or time_zone
    return f"{day}, {clock} {abbreviation}"


def format_language(tag: str, locale: str) -> str:
    """The name of a BCP 47 tag's language as the locale writes it: ``es-US`` -> ``Spanish`` /
    ``español``; ``en-US`` -> ``English`` / ``inglés``. A language babel does not know gives the tag."""
    language = tag.replace("_", "-").split("-")[0].lower()
    return str(babel_locale(locale).languages.get(language, tag))


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """An amount of money with its currency as the locale writes it (``$75.00``, ``75,00 US$``)."""
    return babel_numbers.format_currency(amount, currency, locale=babel_locale(locale))


def format_percent(value: Decimal | float, locale: str) -> str:
    """A fraction as a percentage (``0.15`` -> ``15%``)."""
    return babel_numbers.format_percent(value, locale=babel_locale(locale))


def format_list(items: Sequence[str], locale: str) -> str:
    """Items joined as the locale writes a list: ``Ana, Luis, and Marta`` / ``Ana, Luis y Marta``."""
    if not items:
        return ""
    return babel_lists.format_list(list(items), style="standard", locale=babel_locale(locale))


@functools.lru_cache(maxsize=4096)  # a practice's own numbers recur in every client's packet
def format_phone(e164: str, locale: str) -> str:
    """A phone number for display: US numbers in national form ``(601) 555-0100`` in US locales,
    every other number (or any number outside a US locale) in international form.

    The locale decides only whether the number is domestic; digits are never localised.
    """
    parsed = phonenumbers.parse(e164, None)
    region = babel_locale(locale).territory or ""
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_time_zone(time_zone: str, locale: str) -> str:
    """The generic name of an IANA time zone in the locale: ``Central Time`` / ``hora central``."""
    return babel_dates.get_timezone_name(
        ZoneInfo(time_zone), width="long", zone_variant="generic", locale=babel_locale(locale)
    )
