"""What finance reads on the batch pages for the codes a batch stores: its state, a line's status, what a
rebuild changed, a line's tax regime, and who made a change.

The codes stay as they are in the database and the API; only the pages translate them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import db
from core.people.access import current_person
from core.people.models import Person
from payouts.tax.engine.quote import active_regimes

STATE_NAMES = {
    "draft": _l("draft"),
    "approved": _l("approved"),
    "exported": _l("exported"),
    "paid": _l("paid"),
    "voided": _l("voided"),
}
LINE_STATUS_NAMES = {"payable": _l("payable"), "held": _l("held")}
# A rebuild's change per partner (payouts.batches.rebuild): the line's new status, or what happened to it.
CHANGE_NAMES = {
    "added": _l("added"),
    "dropped": _l("dropped"),
    "re-priced": _l("re-priced"),
    "payable": _l("now payable"),
    "held": _l("now held"),
}
# The shipped regimes' titles (payouts/tax/engine/tax_regimes.json), here so that the catalogues hold them:
# a page shows gettext(regime.title), and a title an operator adds later is shown as written.
REGIME_TITLES = (
    _l("Russia: individual under a civil contract, tax resident"),
    _l("Russia: self-employed (professional income tax, NPD)"),
    _l("Russia: sole proprietor on the simplified system (USN)"),
    _l("Russia: company on the general tax system (OSNO)"),
    _l("Russia: individual who is not a tax resident"),
    _l("EU: partner registered for VAT in the payer's own country"),
    _l("EU: cross-border business to business (reverse charge)"),
    _l("EU: small-business exempt partner (no VAT)"),
    _l("US payee with a W-9"),
    _l("US payee without a valid TIN (backup withholding)"),
    _l("Foreign payee with a W-8BEN / W-8BEN-E"),
)
# How pages signed changes before they named the person by e-mail: "finance person #2".
OLD_PAGE_ACTOR = re.compile(r"(\w+) person #(\d+)")
ACTOR_LENGTH = 64  # PayoutBatch.created_by and voided_by


def actor() -> str:
    """How a change made on these pages is signed in the records it leaves, like the API's "finance key #3"."""
    person = current_person()
    return f"{person.email} ({person.role})"[:ACTOR_LENGTH] if person else "portal"


def regime_names(codes: Iterable[str | None]) -> dict[str, str]:
    """Each regime code's title in the reader's language; a code no longer among the regimes is left out."""
    regimes = active_regimes()
    return {code: gettext(regimes[code].title) for code in set(codes) if code and code in regimes}


def actor_names(actors: Iterable[str | None]) -> dict[str, str]:
    """Old page signatures ("finance person #2") with the person's e-mail; API keys and new ones read as stored."""
    old = {text: OLD_PAGE_ACTOR.fullmatch(text) for text in set(actors) if text}
    ids = {int(match[2]) for match in old.values() if match}
    emails = dict(db.session.execute(select(Person.id, Person.email).where(Person.id.in_(ids))).tuples().all())
    return {
        text: f"{emails[int(match[2])]} ({match[1]})"
        for text, match in old.items()
        if match and int(match[2]) in emails
    }
