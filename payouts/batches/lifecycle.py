"""Building, approving and paying payout batches from the ledger.

``create_batch`` takes every ledger amount that is payable and not yet in any batch (approved accruals,
adjustments, outstanding clawbacks netted against them) per partner in one currency up to a day, prices
each partner's total with the tax engine, and holds the partners who cannot be paid (no profile, an
expired form, under the minimum) with the reason; a held partner's amounts stay unclaimed, so the next
batch carries them over. ``mark_paid`` appends one 'paid' ledger row per payable line (payouts.ledger.payments), and a
clawback for each amount in it reversed since the batch was built. Builds in one currency take turns
(payouts.batches.build_lock); a draft is voided or rebuilt in payouts.batches.voiding and .rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, insert, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from core.db import UtcDateTime, db, dialect_insert, utcnow
from core.money import major_text, minor_digits, to_major, to_minor
from payouts.batches.build_lock import try_lock_builds
from payouts.batches.drift import approval_problem
from payouts.batches.models import MONEY_FIELDS, PayoutBatch, PayoutItem, PayoutLine
from payouts.batches.year_to_date import year_to_date, year_to_date_per_regime
from payouts.ledger.entries import SYSTEM_ACTOR
from payouts.ledger.locks import lock_partners
from payouts.ledger.models import SETTLEMENT_COLUMNS, LedgerEntry
from payouts.tax.engine.quote import TaxQuote, active_regimes, quote
from payouts.tax.models import TaxProfile
from payouts.tax.profiles import engine_inputs, payability

log = logging.getLogger(__name__)
CLAIM_ATTEMPTS = 3


class BatchError(ValueError):
    """A batch operation that cannot go ahead; the message says why."""


class BatchBusy(BatchError):
    """Another build in the same currency holds the build lock; try again when it finishes."""


class _Raced(Exception):
    """Another batch claimed some of our amounts, or new ones were approved while we priced; start again."""


def open_items(currency: str, period_end: date):
    """Ledger items a batch may pay: payable by the end of ``period_end`` and in no batch yet."""
    entry, step = LedgerEntry, aliased(LedgerEntry)
    cutoff = datetime.combine(period_end + timedelta(days=1), time(), UTC)

    def settled(*kinds):
        return exists().where(step.settles_id == entry.id, step.kind.in_(kinds))

    approved_in_time = exists().where(step.settles_id == entry.id, step.kind == "approved", step.created_at < cutoff)
    accrual = (entry.kind == "accrued") & approved_in_time & ~settled("reversed", "clawed_back", "paid")
    other = entry.kind.in_(("adjusted", "clawed_back")) & (entry.created_at < cutoff) & ~settled("paid")
    claimed = exists().where(PayoutItem.ledger_entry_id == entry.id)
    return select(entry).where(entry.currency == currency, accrual | other, ~claimed)


def owed_per_partner(currency: str, period_end: date) -> dict[int, int]:
    """One grouped query: each partner's payable total in the currency, clawbacks netted."""
    items = open_items(currency, period_end).subquery()
    rows = db.session.execute(
        select(items.c.partner_id, func.sum(items.c.amount_minor))
        .group_by(items.c.partner_id)
        .order_by(items.c.partner_id)
    )
    return {partner_id: int(total) for partner_id, total in rows}


def create_batch(
    period_end: date,
    currency: str,
    payout_date: date,
    minimum_payout_minor: int,
    actor: str,
    progress: Callable[[Iterable], Iterable] | None = None,
    prepare: Callable[[], None] | None = None,
    created: Callable[[PayoutBatch], None] | None = None,
) -> PayoutBatch:
    """Build a draft batch; ``progress`` wraps the per-partner loop (the CLI's progress bar).

    ``prepare`` runs first in the build's transaction and ``created`` once the new lines are written, before
    the claim commits: a rebuild voids the draft it replaces in the same transaction (payouts.batches.rebuild).
    """
    minor_digits(currency)  # refuses an unknown currency before anything is written
    if minimum_payout_minor < 0:
        raise BatchError("the minimum payout cannot be negative")
    _check_payout_date(period_end, payout_date)
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        try:
            if not try_lock_builds(currency):
                raise BatchBusy(
                    f"another payout batch in {currency} is being built right now; try again when it finishes"
                )
            if prepare is not None:
                prepare()
            return _build(period_end, currency, payout_date, minimum_payout_minor, actor, progress, created)
        except _Raced:
            db.session.rollback()
            log.info("payout batch raced another batch (attempt %s); rebuilding", attempt)
    raise BatchError("other payout batches kept claiming the same amounts; run it again")


def _check_payout_date(period_end: date, payout_date: date) -> None:
    # The batch pays what was approved by the end of the period, so it cannot be paid before that day;
    # a year whose books are closed (any year before the current one) takes no new payouts, which would
    # change year-to-date bases already reported.
    if payout_date < period_end:
        raise BatchError(f"the payout date {payout_date} is before the period end {period_end}")
    this_year = utcnow().year
    if payout_date.year < this_year:
        raise BatchError(
            f"the payout date {payout_date} is in {payout_date.year}, a closed year (it is {this_year}); "
            f"give a payout date in {this_year} (payout_date, or --payout-date)"
        )


def _build(period_end, currency, payout_date, minimum_payout_minor, actor, progress, created) -> PayoutBatch:
    owed = owed_per_partner(currency, period_end)
    if not owed:
        raise BatchError(f"nothing approved and unpaid in {currency} up to {period_end}")
    batch = PayoutBatch(
        period_end=period_end,
        currency=currency,
        payout_date=payout_date,
        minimum_payout_minor=minimum_payout_minor,
        created_by=actor,
        state="draft",
    )
    db.session.add(batch)
    db.session.flush()
    # Everything a line is priced from is read up front, once per batch: the regimes, the profiles and
    # the year's earlier payouts (three queries, not three per partner). Lines are written with one
    # multi-row INSERT rather than as ORM objects: ten thousand of them added to ``batch.lines`` one by
    # one cost time quadratic in the partners (the session cascades over the whole collection per add).
    regimes = active_regimes()
    profiles = _profiles(owed)
    paid = year_to_date_per_regime(currency, payout_date)
    partners = list(owed.items())
    lines = [
        _line(batch, partner_id, amount_minor, profiles.get(partner_id), _paid(paid, partner_id, profiles), regimes)
        for partner_id, amount_minor in (progress(partners) if progress else partners)
    ]
    db.session.execute(insert(PayoutLine), lines)
    if created is not None:
        created(batch)
    _claim(batch)
    return batch


def _paid(paid: dict[tuple[int, str], int], partner_id: int, profiles: dict[int, TaxProfile]) -> int:
    profile = profiles.get(partner_id)
    return 0 if profile is None else paid.get((partner_id, profile.regime_code), 0)


def _profiles(owed: dict[int, int]) -> dict[int, TaxProfile]:
    wanted = set(owed)
    # All profiles in one query, filtered here: an IN list of ten thousand ids is slower than reading them.
    return {
        profile.partner_id: profile
        for profile in db.session.scalars(select(TaxProfile))
        if profile.partner_id in wanted
    }


def _claim(batch: PayoutBatch) -> None:
    """Write the items of the payable lines with one INSERT ... SELECT, then commit.

    Two batches built at once (two finance users, the CLI beside the API) both read the same open
    amounts. The unique ledger_entry_id of payout_items lets only one of them commit an item for each
    amount: on PostgreSQL the second insert waits for the first transaction and then fails here, so
    the loser rolls back and rebuilds from what is still open instead of paying a commission twice.
    """
    # The lines were just written and have no statistics yet, so PostgreSQL's planner takes them for a
    # row or two and joins by nested loop: from each line either through the ledger partner by partner
    # (a million random heap reads) or over every open item again (10,000 x 1,000,000 rows), minutes
    # either way for a month of a large program. Computing the open items once (materialised) and, for
    # this transaction only, leaving the planner hash joins makes it one pass over the ledger.
    items = (
        open_items(batch.currency, batch.period_end).cte("open_items").prefix_with("MATERIALIZED", dialect="postgresql")
    )
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_nestloop = off"))
    claim = (
        select(literal(batch.id), PayoutLine.id, items.c.id)
        .select_from(items)
        .join(
            PayoutLine,
            and_(
                PayoutLine.partner_id == items.c.partner_id,
                PayoutLine.batch_id == batch.id,
                PayoutLine.status == "payable",
            ),
        )
    )
    try:
        db.session.execute(insert(PayoutItem).from_select(["batch_id", "line_id", "ledger_entry_id"], claim))
        _check_claimed_amounts(batch)
        db.session.commit()
    except IntegrityError:
        raise _Raced() from None


def _check_claimed_amounts(batch: PayoutBatch) -> None:
    # An amount approved between the grouped total and the claim would be paid without being taxed.
    claimed = (
        select(PayoutItem.line_id, func.sum(LedgerEntry.amount_minor).label("amount"))
        .join(LedgerEntry, LedgerEntry.id == PayoutItem.ledger_entry_id)
        .where(PayoutItem.batch_id == batch.id)
        .group_by(PayoutItem.line_id)
        .subquery()
    )
    mismatched = db.session.scalar(
        select(func.count())
        .select_from(PayoutLine)
        .outerjoin(claimed, claimed.c.line_id == PayoutLine.id)
        .where(
            PayoutLine.batch_id == batch.id,
            PayoutLine.status == "payable",
            func.coalesce(claimed.c.amount, 0) != PayoutLine.amount_minor,
        )
    )
    if mismatched:
        raise _Raced()


def _line(
    batch: PayoutBatch, partner_id: int, amount_minor: int, profile: TaxProfile | None, paid_minor: int, regimes
) -> dict:
    """A payout_lines row for the partner: priced, or held with the reason and every amount 0."""
    line = {
        "batch_id": batch.id,
        "partner_id": partner_id,
        "amount_minor": amount_minor,
        "regime": None if profile is None else profile.regime_code,
        "status": "payable",
        "held_reason": None,
        **dict.fromkeys(MONEY_FIELDS, 0),
    }
    under_minimum = _minimum_problem(batch, amount_minor)
    if profile is None or under_minimum:
        # Nothing to price; payability's own zero quote tells whether something else stands first.
        reason = payability(profile, batch.payout_date, regimes) or under_minimum
    else:
        taxed = _quote(batch, profile, amount_minor, paid_minor, regimes)
        reason = payability(profile, batch.payout_date, regimes, priced=taxed) or _price(line, batch, profile, taxed)
    if reason is not None:
        line.update(status="held", held_reason=reason, **dict.fromkeys(MONEY_FIELDS, 0))
    return line


def _minimum_problem(batch: PayoutBatch, amount_minor: int) -> str | None:
    if amount_minor <= 0 or amount_minor < batch.minimum_payout_minor:
        owed = major_text(amount_minor, batch.currency)
        minimum = major_text(batch.minimum_payout_minor, batch.currency)
        return f"under the minimum payout of {minimum} {batch.currency} (owed {owed}); carried over"
    return None


def _quote(batch: PayoutBatch, profile: TaxProfile, amount_minor: int, paid_minor: int, regimes) -> TaxQuote:
    return quote(
        profile.regime_code,
        to_major(amount_minor, batch.currency),
        basis=profile.pays,
        payout_date=batch.payout_date,
        paid_this_year=to_major(paid_minor, batch.currency),
        profile=engine_inputs(profile),
        regimes=regimes,
    )


def _price(line: dict, batch: PayoutBatch, profile: TaxProfile, taxed: TaxQuote) -> str | None:
    """Fill the line's tax figures from its quote, or say why they cannot pay this batch."""
    if taxed.currency != batch.currency:
        return f"the regime {profile.regime_code} pays in {taxed.currency}, not {batch.currency}"
    figures = {
        "gross_minor": taxed.gross,
        "withholding_minor": taxed.withholding,
        "contributions_minor": taxed.contributions,
        "vat_minor": taxed.vat,
        "net_minor": taxed.net_to_partner,
        "company_cost_minor": taxed.company_cost,
    }
    for name, value in figures.items():
        line[name] = to_minor(value, batch.currency)
    return None


def paid_this_year(partner_id: int, currency: str, payout_date: date, regime: str | None = None) -> int:
    """Gross already due to the partner this year in batches that will pay (see payouts.batches.year_to_date)."""
    return year_to_date(partner_id, currency, payout_date, regime)


def approve_batch(batch: PayoutBatch) -> PayoutBatch:
    """Freeze the lines: what finance approved is what is exported and paid."""
    # The row lock makes an approval and a void of one draft take turns; the second sees the first's state.
    db.session.refresh(batch, with_for_update=True)
    problem: str | None = f"batch {batch.id} is {batch.state}; only a draft can be approved"
    if batch.state == "draft":
        problem = approval_problem(batch)
    if problem is not None:
        db.session.rollback()
        raise BatchError(problem)
    batch.state, batch.approved_at = "approved", utcnow()
    db.session.commit()
    return batch


def mark_exported(batch: PayoutBatch) -> None:
    if batch.state == "approved":
        batch.state = "exported"
        db.session.commit()


def mark_paid(batch: PayoutBatch, actor: str = "payouts") -> int:
    """Append a 'paid' ledger row for each payable line of the batch; returns how many were appended.

    The batch pays what finance approved and exported: the bank has the file, so every line is recorded
    paid, and with it every item the line holds (payouts.ledger.payments). An item whose commission was
    reversed since the batch was built was paid all the same, so it also gets its clawback here, netted
    by the next batch, as a reversal after payment would. Marking a paid batch paid again (a retry after
    a lost response) appends nothing and returns 0.
    """
    # The batch row first: two mark-paids of one batch take turns, and the second sees it paid.
    state = db.session.scalar(
        select(PayoutBatch.state).where(PayoutBatch.id == batch.id).with_for_update(key_share=True)
    )
    if state == "paid":
        db.session.commit()
        return 0
    if state not in ("approved", "exported"):
        raise BatchError(f"batch {batch.id} is {state}; approve it before marking it paid")
    # Locking protocol (payouts.ledger.locks): the batch's partner rows, ascending, before anything is
    # read; a reversal takes the same locks before it reads whether its commissions were paid. The
    # reversal committed before this lock is seen below and clawed back here; one waiting on it finds its
    # line's 'paid' row and claws back itself. Either way a paid, reversed commission gets one clawback.
    payable = (PayoutLine.batch_id == batch.id, PayoutLine.status == "payable")
    lock_partners(select(PayoutLine.partner_id).where(*payable))
    now = utcnow()
    # One row per line, not per item: a batch of a million commissions over ten thousand partners is ten
    # thousand rows here. The line's amount is its items' sum (checked when they were claimed, frozen
    # since approval), so the paid balance, a sum over 'paid' rows, is what it was with a row per item.
    payments = select(
        PayoutLine.partner_id,
        PayoutLine.id,
        literal("paid"),
        PayoutLine.amount_minor,
        literal(batch.currency),
        literal(batch.id),
        literal(actor),
        literal(f"payout batch {batch.id}"),
        literal(now, UtcDateTime()),
    ).where(*payable)
    columns = [
        "partner_id",
        "payout_line_id",
        "kind",
        "amount_minor",
        "currency",
        "payout_batch_id",
        "actor",
        "reason",
        "created_at",
    ]
    # ON CONFLICT DO NOTHING on the unique payout_line_id: whatever gets past the batch lock, a line is
    # paid once.
    statement = dialect_insert(LedgerEntry).from_select(columns, payments).on_conflict_do_nothing()
    appended = len(db.session.execute(statement.returning(LedgerEntry.id)).all())
    _claw_back_reversed_items(batch, now)
    batch.state, batch.paid_at = "paid", now
    db.session.commit()
    return appended


def _claw_back_reversed_items(batch: PayoutBatch, now: datetime) -> None:
    # Driven from the reversals (few) into the batch's items by their unique ledger_entry_id, so a batch
    # of a million items costs a handful of index lookups here, not a scan of its items.
    reversal, accrual = aliased(LedgerEntry), aliased(LedgerEntry)
    owed_back = (
        select(
            accrual.partner_id,
            accrual.offer_id,
            accrual.conversion_id,
            literal("clawed_back"),
            accrual.id,
            -accrual.amount_minor,
            accrual.currency,
            literal(SYSTEM_ACTOR),
            literal(f"reversed before payout batch {batch.id} paid it"),
            literal(now, UtcDateTime()),
        )
        .select_from(reversal)
        .join(PayoutItem, (PayoutItem.ledger_entry_id == reversal.settles_id) & (PayoutItem.batch_id == batch.id))
        .join(accrual, accrual.id == reversal.settles_id)
        .where(reversal.kind == "reversed")
    )
    # ON CONFLICT DO NOTHING on the unique (settles_id, kind): an accrual is clawed back once, whatever ran first.
    db.session.execute(dialect_insert(LedgerEntry).from_select(SETTLEMENT_COLUMNS, owed_back).on_conflict_do_nothing())


def totals(batch: PayoutBatch) -> dict[str, int]:
    """The batch's sums over all its lines (held lines count 0), in minor units."""
    return {name: sum(getattr(line, name) for line in batch.lines) for name in ("amount_minor", *MONEY_FIELDS)}
