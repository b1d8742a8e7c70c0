"""What the postback API accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.api.limits import RowId
from core.api.schemas import ListQuery, Strict
from tracker.postbacks.messages import MACROS, validate_template

_MACRO_LIST = ", ".join("{" + name + "}" for name in MACROS)


class PartnerQuery(Strict):
    partner_id: RowId | None = Field(None, description="Required with an admin key; implied by a partner key.")


class PostbackIn(Strict):
    url_template: Annotated[str, AfterValidator(validate_template)] = Field(
        description=f"Absolute http(s) URL; macros in the path and query: {_MACRO_LIST}. "
        "Values are URL-encoded; a macro without a value is empty."
    )
    active: bool = True
    rotate_secret: bool = Field(False, description="Issue a new signing secret (the old one stops working).")


class PostbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    partner_id: int
    url_template: str
    secret: str = Field(
        description="Verify X-Handoff-Signature: t=<unix>,v1=hex(HMAC-SHA256(secret, '<t>.<requested URL>'))."
    )
    active: bool
    created_at: datetime
    updated_at: datetime


class DeliveryQuery(ListQuery, PartnerQuery):
    pass


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    conversion_id: int | None
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class SendTestIn(Strict):
    """Send ``{}``: every API write takes a JSON object body."""
