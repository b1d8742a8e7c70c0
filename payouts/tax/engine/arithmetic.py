"""The arithmetic of a tax quote: half-up rounding, marginal bands, and the gross for a promised net.

Nothing here knows a rate: every number comes from a preset version (tax_regimes.json).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from payouts.tax.engine.regimes import Band, Charge

ZERO = Decimal(0)
# The gross-up search starts next to the answer and needs a step or two; the bound only stops a bug
# from looping for ever.
_MAX_STEPS = 1000


def round_half_up(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def slices(bands: tuple[Band, ...], start: Decimal, amount: Decimal) -> list[tuple[Band, Decimal]]:
    """The parts of ``amount`` that fall in each band when the year already holds ``start``."""
    end, parts = start + amount, []
    for band in bands:
        low = max(start, band.lower)
        high = end if band.upper is None else min(end, band.upper)
        if high > low:
            parts.append((band, high - low))
    return parts


def _exact(bands: tuple[Band, ...], start: Decimal, amount: Decimal) -> Decimal:
    return sum((part * band.rate for band, part in slices(bands, start, amount)), ZERO)


def applies(charge: Charge, paid: Decimal, gross: Decimal) -> bool:
    """Whether the year's total has reached the point from which the charge is taken."""
    threshold = charge.starts_at_year_total
    return threshold is None or paid + gross >= threshold


def charge_on(charge: Charge, paid: Decimal, gross: Decimal) -> Decimal:
    """The charge on this payment, rounded as the regime rounds."""
    if not applies(charge, paid, gross):
        return ZERO
    if charge.cumulative:
        # Year to date, as Russian payroll computes NDFL: the year's rounded total less what the earlier
        # payments bore, so rounding each payment never drifts from the rounded figure for the year.
        return round_half_up(_exact(charge.bands, ZERO, paid + gross), charge.rounding) - round_half_up(
            _exact(charge.bands, ZERO, paid), charge.rounding
        )
    return round_half_up(_exact(charge.bands, ZERO, gross), charge.rounding)


def gross_for_net(charge: Charge | None, paid: Decimal, net: Decimal) -> Decimal:
    """The gross that leaves exactly ``net`` once ``charge`` is withheld.

    TAX-FACTS: gross = net / (1 - rate), rounded as the regime rounds, then checked. The withholding is
    a whole number of rounding units, so the gross is the net plus such a number: start from the one
    nearest the exact solution and step a unit at a time until gross - withholding == net. A step moves
    the withholding by at most one unit (every rate is below 1), so the search lands on the check and
    never jumps over it. Where two grosses pass the check, the one nearest the exact solution wins.
    """
    if charge is None:
        return net
    withheld = round_half_up(_exact_gross(charge, paid, net) - net, charge.rounding)
    for _ in range(_MAX_STEPS):
        gap = charge_on(charge, paid, net + withheld) - withheld
        if gap == 0:
            return net + withheld
        withheld += charge.rounding if gap > 0 else -charge.rounding
    raise ArithmeticError(f"no gross leaves {net} after {charge.label}")


def _exact_gross(charge: Charge, paid: Decimal, net: Decimal) -> Decimal:
    """The unrounded gross for ``net``, band by band: each band keeps (1 - rate) of what falls in it."""
    if not applies(charge, paid, net):
        return net  # below the threshold nothing is withheld, so the gross is the net
    position = paid if charge.cumulative else ZERO
    gross, remaining = ZERO, net
    for band in charge.bands:
        if band.upper is not None and band.upper <= position:
            continue
        keep = 1 - band.rate
        if band.upper is None or remaining <= (band.upper - position) * keep:
            return gross + remaining / keep
        room = band.upper - position
        gross, remaining, position = gross + room, remaining - room * keep, band.upper
    raise AssertionError("the last band is open")  # the presets loader refuses anything else


def describe(charge: Charge, paid: Decimal, gross: Decimal, amount: Decimal) -> list[str]:
    """The charge in words, band by band, for finance to check by hand."""
    threshold = charge.starts_at_year_total
    if threshold is not None and not applies(charge, paid, gross):
        return [f"no {charge.label} yet: the year's total {money(paid + gross)} is below {number(threshold)}"]
    lines = []
    if threshold is not None:
        lines.append(f"{charge.label} applies: the year's total {money(paid + gross)} is at least {number(threshold)}")
    start = paid if charge.cumulative else ZERO
    for band, part in slices(charge.bands, start, gross):
        lines.append(f"{charge.label} {percent(band.rate)} on {money(part)}{_band_words(band)}".rstrip())
    how = "year to date, " if charge.cumulative else ""
    lines.append(f"{charge.label}: {money(amount)} ({how}rounded half up to {number(charge.rounding)})")
    return lines


def _band_words(band: Band) -> str:
    if band.upper is None:
        return "" if band.lower == 0 else f" above {number(band.lower)}"
    return f" within the {number(band.lower)}–{number(band.upper)} band"


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def number(value: Decimal) -> str:
    return f"{value:,f}"


def percent(rate: Decimal) -> str:
    text = f"{rate * 100:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"
