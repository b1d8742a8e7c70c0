"""What the banner API accepts and answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from core.api.schemas import Strict

# As the click path takes them (tracker/clicks/redirect.py): at most 255 characters, no control characters
# (Strict refuses those in every field).
SubId = Annotated[str, StringConstraints(max_length=255)]


class BannerQuery(Strict):
    offer: Annotated[str, StringConstraints(min_length=1, max_length=63)] = Field(
        description="The offer's slug, or its id when no offer has that slug."
    )
    sub1: SubId | None = Field(None, description="Sub-ids the embed code's link carries (partner keys only).")
    sub2: SubId | None = None
    sub3: SubId | None = None
    sub4: SubId | None = None
    sub5: SubId | None = None


class EmbedOut(BaseModel):
    link_code: str
    link_url: str = Field(description="The partner's own link for the offer, with the sub-ids asked for.")
    html: str
    markdown: str


class BannerOut(BaseModel):
    id: int
    name: str
    width: int
    height: int
    mime_type: str
    url: str
    embed: EmbedOut | None = Field(description="Only for a partner key with a link on the offer.")


class BannerList(BaseModel):
    offer_id: int
    offer_slug: str
    items: list[BannerOut]
    embed_unavailable: str | None = Field(
        description="Why the banners carry no embed code, when they do not (no partner key, no link on the offer)."
    )
