"""An applicant's tax id, checked with python-stdnum where it knows the country's numbers.

stdnum's VAT module for the country is tried first (Russia's is the INN), then its TIN module. A country
stdnum has no module for is kept compacted but unchecked: refusing it would turn away applicants from
everywhere else, and nothing here claims to know their formats.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.util import clean, get_cc_module

from tracker.applications.models import TAX_ID_MAX


class TaxIdInvalid(ValueError):
    """The number fails its country's format or check digits; the message says which rule."""


def checked_tax_id(country: str, value: str) -> str:
    """The number in its compact form, or TaxIdInvalid."""
    code = country.lower()
    module = get_cc_module(code, "vat") or get_cc_module(code, "tin")
    if module is None:
        return _unchecked(value)
    try:
        number: str = module.validate(value)
    except ValidationError as error:
        # Each stdnum error class carries a general ``message`` ("The number has an invalid length.").
        reason = str(getattr(error, "message", error))
        name = (module.__doc__ or country).splitlines()[0].rstrip(".")
        raise TaxIdInvalid(f"{name}: {reason}") from None
    if len(number) > TAX_ID_MAX:
        raise TaxIdInvalid(f"at most {TAX_ID_MAX} characters")
    return number


def _unchecked(value: str) -> str:
    number = clean(value, " -./,").upper().strip()
    if not number.isalnum() or len(number) > TAX_ID_MAX:
        raise TaxIdInvalid(f"use letters and digits only (spaces, dots and dashes are dropped), at most {TAX_ID_MAX}")
    return number
