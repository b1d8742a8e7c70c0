"""Tax ids, VAT numbers and bank details, checked with python-stdnum and stored in compact form.

Each function returns the normalised number or raises ``NumberInvalid`` with a reason a finance user can
act on. Countries stdnum has no module for are stored compacted but unchecked: refusing them would
block partners from everywhere else, and nothing here claims to know their formats.
"""

from __future__ import annotations

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.ru import inn as ru_inn
from stdnum.us import ein as us_ein
from stdnum.us import itin as us_itin
from stdnum.us import ssn as us_ssn
from stdnum.util import clean, get_cc_module

# Northern Ireland's "XI" is in stdnum's list but is no ISO country a profile can name.
EU_COUNTRIES = frozenset(code.upper() for code in eu_vat.MEMBER_STATES) - {"XI"}


class NumberInvalid(ValueError):
    """The number is malformed or fails its check digits; the message says which and why."""


def compact(value: str) -> str:
    return clean(value, " -./,").upper().strip()


def tax_id(country: str, kind: str, value: str) -> str:
    """The payee's tax id as its country defines it: INN in Russia, a VAT number in the EU, a TIN in the US."""
    if country == "RU":
        return _inn(kind, value)
    if country in EU_COUNTRIES:
        return _eu_vat(country, value)
    if country == "US":
        return _us_tin(kind, value)
    return _unchecked(value)


def vat_number(country: str, value: str) -> str:
    """A VAT registration number of the partner's country (in Russia the INN is the VAT number)."""
    if country == "RU":
        return _checked(ru_inn, value, "INN")
    if country in EU_COUNTRIES:
        return _eu_vat(country, value)
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        return _unchecked(value)
    return _checked(module, value, f"{country} VAT number")


def iban(value: str) -> str:
    # check_country: the BBAN must also have the layout the IBAN's country prescribes.
    try:
        return stdnum_iban.validate(value, check_country=True)
    except ValidationError as error:
        raise NumberInvalid(f"not a valid IBAN: {_reason(error)}") from None


def bic(value: str) -> str:
    return _checked(stdnum_bic, value, "BIC")


def _inn(kind: str, value: str) -> str:
    number = _checked(ru_inn, value, "INN")
    # An organisation's INN has 10 digits, a person's (sole proprietors included) 12.
    expected = 10 if kind == "company" else 12
    if len(number) != expected:
        raise NumberInvalid(f"a {kind.replace('_', ' ')}'s INN has {expected} digits, this one {len(number)}")
    return number


def _eu_vat(country: str, value: str) -> str:
    prefix = "EL" if country == "GR" else country  # Greece's VAT numbers start with EL
    number = compact(value)
    if not number[:2].isalpha():
        number = prefix + number
    if number[:2] != prefix:
        raise NumberInvalid(f"a {country} VAT number starts with {prefix}, not {number[:2]}")
    return _checked(eu_vat, number, f"{country} VAT number")


def _us_tin(kind: str, value: str) -> str:
    """An EIN for a company; an SSN, an ITIN or an EIN for a person."""
    modules = (us_ein,) if kind == "company" else (us_ssn, us_itin, us_ein)
    for module in modules:
        try:
            return module.validate(value)
        except ValidationError:
            continue
    wanted = "an EIN" if kind == "company" else "an SSN, an ITIN or an EIN"
    raise NumberInvalid(f"not a valid US TIN: expected {wanted} (9 digits, valid area/prefix)")


def _checked(module, value: str, name: str) -> str:
    try:
        return module.validate(value)
    except ValidationError as error:
        raise NumberInvalid(f"not a valid {name}: {_reason(error)}") from None


def _reason(error: ValidationError) -> str:
    # Every error stdnum raises is a subclass with a class-level ``message``; the base class declares
    # none, so its types do not show it. Not str(error): that prefers a module's own text where one is
    # given (the CZ VAT number's "No 9 digit birth numbers after 1953."), and the reason shown is the
    # class's general one.
    return str(getattr(error, "message", error))


def _unchecked(value: str) -> str:
    number = compact(value)
    if not number.isalnum() or len(number) > 32:
        raise NumberInvalid("must be letters and digits (spaces, dots and dashes are dropped), at most 32")
    return number
