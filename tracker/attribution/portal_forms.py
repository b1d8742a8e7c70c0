"""The advertiser's conversion forms: the list's filters, a decision on one conversion, and the words for
the reasons a conversion is held."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Length, Optional

from tracker.attribution.conversions import TRANSITIONS
from tracker.attribution.models import CONVERSION_STATUSES
from tracker.attribution.portal_queries import Filters
from tracker.program.models import Offer

ANY = ""
STATUS_NAMES = {
    "pending": _l("pending"),
    "review": _l("held for review"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "reversed": _l("reversed"),
}
# review_reasons as tracker.attribution.carriers, conversions and pixel write them.
REASON_NAMES = {
    "bot_click": _l("the click came from a bot"),
    "attribution_conflict": _l("the click and an earlier customer binding name different partners"),
    "deal_registration_conflict": _l("another partner registered this deal"),
    "too_fast_after_click": _l("converted implausibly fast after the click"),
    "ip_burst": _l("many conversions from one network"),
    "self_referral": _l("the partner referred itself"),
    "unsigned_pixel": _l("unsigned pixel: anyone could have fired it"),
    "pixel_needs_approval": _l("this offer approves every pixel conversion"),
    "amount_above_ceiling": _l("amount above the offer's review ceiling"),
    "amount_currency_not_ceiling": _l("amount in another currency than the review ceiling"),
}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    status = SelectField(
        _l("Status"),
        default=ANY,
        choices=[SelectChoice(ANY, _l("any"))] + [SelectChoice(s, STATUS_NAMES[s]) for s in CONVERSION_STATUSES],
    )
    event = StringField(_l("Event"), validators=[Optional(), Length(max=64)])
    offer = SelectField(_l("Offer"), default=ANY)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def fill_offers(self, offers: list[Offer]) -> None:
        self.offer.choices = [SelectChoice(ANY, _l("all offers"))] + [
            SelectChoice(str(offer.id), offer.name) for offer in offers
        ]

    def filters(self) -> Filters:
        """What was asked for; a field that failed its check filters nothing (its error says why)."""

        def valid(field):
            return None if field.errors or not field.data else field.data

        offer = valid(self.offer)
        return Filters(
            status=valid(self.status),
            event=(valid(self.event) or "").strip() or None,
            offer_id=int(offer) if offer else None,
            date_from=valid(self.date_from),
            date_to=valid(self.date_to),
        )


class DecisionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(tuple(TRANSITIONS))])
    reason = TextAreaField(_l("Reason"))
    back = HiddenField()
