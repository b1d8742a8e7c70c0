"""What the API accepts and answers for the program's objects; every field checked before any write."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from core.api.limits import RowId
from core.api.schemas import Currency, Strict
from core.money import ExactAmount
from tracker.program.hosts import allowed_host
from tracker.program.models import (
    CONFLICT_RULES,
    CONVERSION_SOURCES,
    OFFER_STATUSES,
    PARTNER_KINDS,
    PARTNER_STATUSES,
)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http or https URL")
    if any(char in value for char in "\\\r\n\t "):
        raise ValueError("must not contain spaces, tabs, newlines or backslashes")
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code")
    return code


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)]
# Never a public suffix nor a wildcard over one (tracker/program/hosts.py): that would be an open redirect.
AllowedHost = Annotated[str, StringConstraints(max_length=253), AfterValidator(allowed_host)]
SubId = Annotated[str, StringConstraints(max_length=255)]
CustomEvent = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _other_events(events: list[str]) -> list[str]:
    if {"lead", "sale"} & set(events):
        raise ValueError("lead and sale are always accepted; list only other events")
    return list(dict.fromkeys(events))


CustomEvents = Annotated[list[CustomEvent], Field(max_length=20), AfterValidator(_other_events)]
TrustedChannels = Annotated[
    list[Literal[CONVERSION_SOURCES]],  # type: ignore[valid-type]
    Field(
        max_length=10,
        description="Sources whose pending conversions are paid after the hold without the advertiser "
        'approving each one. "api" (server to server with the advertiser\'s key) by default; an unsigned '
        '"pixel" can be fired by anyone with any amount, so list it only knowingly.',
    ),
    AfterValidator(lambda channels: list(dict.fromkeys(channels))),
]
PIXEL_SIGNING_HELP = (
    "Refuse pixels without a valid sig (HMAC-SHA256 with the offer's pixel secret) and trust signed ones."
)
CEILING_HELP = "A conversion above this amount, or in another currency, is held for review; null for none."


def _ceiling_together(amount: object, currency: object) -> None:
    if (amount is None) != (currency is None):
        raise ValueError("review_above_amount and review_above_currency come together")


class AdvertiserIn(Strict):
    name: Name
    contact_email: EmailStr


class AdvertiserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    contact_email: str
    created_at: datetime


class AdvertiserList(BaseModel):
    items: list[AdvertiserOut]


class OfferIn(Strict):
    advertiser_id: RowId | None = Field(None, description="Required with an admin key; implied by an advertiser key.")
    name: Name
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    landing_url: HttpUrl
    allowed_hosts: list[AllowedHost] = Field(default_factory=list, max_length=50)
    token_param: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")] = "atk"
    fallback_url: HttpUrl | None = None
    click_window_days: int = Field(90, ge=1, le=3650)
    lead_window_days: int = Field(365, ge=1, le=3650)
    hold_days: int = Field(30, ge=0, le=365)
    status: Literal[OFFER_STATUSES] = "active"  # type: ignore[valid-type]
    custom_events: CustomEvents = Field(default_factory=list, description="Event names beyond lead and sale.")
    conflict_rule: Literal[CONFLICT_RULES] = "token_wins"  # type: ignore[valid-type]
    pixel_requires_approval: bool = False
    deal_registration_days: int = Field(180, ge=1, le=3650)
    trusted_channels: TrustedChannels = Field(default_factory=lambda: ["api"])
    pixel_signing: bool = Field(False, description=PIXEL_SIGNING_HELP)
    review_above_amount: ExactAmount | None = Field(None, description=CEILING_HELP)
    review_above_currency: Currency | None = None

    @model_validator(mode="after")
    def _ceiling(self) -> OfferIn:
        _ceiling_together(self.review_above_amount, self.review_above_currency)
        return self


class OfferPatch(Strict):
    name: Name | None = None
    allowed_hosts: list[AllowedHost] | None = Field(None, max_length=50)
    fallback_url: HttpUrl | None = None
    status: Literal[OFFER_STATUSES] | None = None  # type: ignore[valid-type]
    # Attribution windows: a change applies to conversions recorded from then on.
    click_window_days: int | None = Field(None, ge=1, le=3650)
    lead_window_days: int | None = Field(None, ge=1, le=3650)
    custom_events: CustomEvents | None = None
    conflict_rule: Literal[CONFLICT_RULES] | None = None  # type: ignore[valid-type]
    pixel_requires_approval: bool | None = None
    deal_registration_days: int | None = Field(None, ge=1, le=3650)
    trusted_channels: TrustedChannels | None = None
    pixel_signing: bool | None = Field(None, description=PIXEL_SIGNING_HELP)
    review_above_amount: ExactAmount | None = Field(None, description=CEILING_HELP + " Send with its currency.")
    review_above_currency: Currency | None = None

    @model_validator(mode="after")
    def _ceiling(self) -> OfferPatch:
        ceiling = {"review_above_amount", "review_above_currency"}
        if ceiling & self.model_fields_set and not ceiling <= self.model_fields_set:
            raise ValueError("review_above_amount and review_above_currency come together")
        _ceiling_together(self.review_above_amount, self.review_above_currency)
        for field in ("trusted_channels", "pixel_signing", "click_window_days", "lead_window_days"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class OfferOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    advertiser_id: int
    name: str
    slug: str
    landing_url: str
    allowed_hosts: list[str]
    token_param: str
    fallback_url: str | None
    click_window_days: int
    lead_window_days: int
    hold_days: int
    status: str
    custom_events: list[str]
    conflict_rule: str
    pixel_requires_approval: bool
    deal_registration_days: int
    trusted_channels: list[str]
    pixel_signing: bool
    review_above_amount: str | None = Field(description="Decimal string in review_above_currency, or null.")
    review_above_currency: str | None
    created_at: datetime


class OfferList(BaseModel):
    items: list[OfferOut]


class PixelSetupOut(BaseModel):
    """For the offer's advertiser and admins only: the secret signs pixels, so it never appears in OfferOut."""

    offer_id: int
    pixel_signing: bool
    pixel_secret: str
    signed_message: str = Field(description="What sig is the hex HMAC-SHA256 of, keyed with pixel_secret.")
    snippet: str


class PartnerIn(Strict):
    name: Name
    contact_email: EmailStr
    kind: Literal[PARTNER_KINDS]  # type: ignore[valid-type]
    country: Annotated[str, AfterValidator(_country)]
    tier: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")] = "standard"
    parent_id: RowId | None = None
    status: Literal[PARTNER_STATUSES] = "active"  # type: ignore[valid-type]


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    contact_email: str | None = Field(description="null for advertiser keys, which do not see partners' contacts")
    kind: str
    country: str
    tier: str
    parent_id: int | None
    status: str
    created_at: datetime


class PartnerList(BaseModel):
    items: list[PartnerOut]


class LinkIn(Strict):
    offer_id: RowId
    partner_id: RowId | None = Field(None, description="Required with an admin key; implied by a partner key.")
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{4,32}$")] | None = None
    sub1: SubId | None = None
    sub2: SubId | None = None
    sub3: SubId | None = None
    sub4: SubId | None = None
    sub5: SubId | None = None


class LinkOut(BaseModel):
    id: int
    code: str
    url: str
    partner_id: int
    offer_id: int
    sub1: str | None
    sub2: str | None
    sub3: str | None
    sub4: str | None
    sub5: str | None
    created_at: datetime


class LinkList(BaseModel):
    items: list[LinkOut]
