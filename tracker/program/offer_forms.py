"""The advertiser's offer forms. They only carry what was typed: the API's schemas (OfferIn, OfferPatch) check
it, so a page refuses exactly what the API refuses, with the same words."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf

from tracker.program.models import OFFER_STATUSES, Offer

_HOST_SEPARATORS = re.compile(r"[\s,]+")


def host_list(text: str | None) -> list[str]:
    """One host a line (commas and spaces also separate them); blank entries dropped."""
    return [host for host in _HOST_SEPARATORS.split(text or "") if host]


class WindowsMixin:
    click_window_days = StringField(_l("Click window (days)"), default="90")
    lead_window_days = StringField(_l("Lead window (days)"), default="365")
    allowed_hosts = TextAreaField(_l("Allowed hosts for deep links"))


class OfferCreateForm(WindowsMixin, FlaskForm):
    name = StringField(_l("Name"))
    slug = StringField(_l("Slug"))
    landing_url = StringField(_l("Landing page URL"))
    hold_days = StringField(_l("Hold (days)"), default="30")

    def values(self) -> dict[str, object]:
        return {
            "name": self.name.data or "",
            "slug": (self.slug.data or "").strip(),
            "landing_url": (self.landing_url.data or "").strip(),
            "allowed_hosts": host_list(self.allowed_hosts.data),
            "click_window_days": (self.click_window_days.data or "").strip(),
            "lead_window_days": (self.lead_window_days.data or "").strip(),
            "hold_days": (self.hold_days.data or "").strip(),
        }


class OfferSettingsForm(WindowsMixin, FlaskForm):
    @classmethod
    def of(cls, offer: Offer) -> OfferSettingsForm:
        return cls(
            data={
                "allowed_hosts": "\n".join(offer.allowed_hosts),
                "click_window_days": str(offer.click_window_days),
                "lead_window_days": str(offer.lead_window_days),
            }
        )

    def values(self) -> dict[str, object]:
        return {
            "allowed_hosts": host_list(self.allowed_hosts.data),
            "click_window_days": (self.click_window_days.data or "").strip(),
            "lead_window_days": (self.lead_window_days.data or "").strip(),
        }


class StatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(OFFER_STATUSES)])
