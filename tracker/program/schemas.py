"""What the API accepts and answers for the program's objects; every field checked before any write."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from core.limits import RowId
from core.schemas import Strict
from tracker.program.hosts import allowed_host
from tracker.program.models import CONFLICT_RULES, OFFER_STATUSES, PARTNER_KINDS, PARTNER_STATUSES


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


class OfferPatch(Strict):
    name: Name | None = None
    allowed_hosts: list[AllowedHost] | None = Field(None, max_length=50)
    fallback_url: HttpUrl | None = None
    status: Literal[OFFER_STATUSES] | None = None  # type: ignore[valid-type]
    custom_events: CustomEvents | None = None
    conflict_rule: Literal[CONFLICT_RULES] | None = None  # type: ignore[valid-type]
    pixel_requires_approval: bool | None = None
    deal_registration_days: int | None = Field(None, ge=1, le=3650)


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
    created_at: datetime


class OfferList(BaseModel):
    items: list[OfferOut]


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
    contact_email: str
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
