"""A EUR payout batch as a SEPA credit transfer file (pain.001.001.03), built and validated by ``sepaxml``.

One transfer per payable line whose partner has a valid IBAN and an account holder, for the line's net
amount. Every other line is left out and ``SepaFile.excluded`` says why, so finance can pay it another way
or fix the profile. The file's control sum is the sum of the included lines, to the cent.

The debtor is the program's own account: ``SEPA_DEBTOR_NAME``, ``SEPA_DEBTOR_IBAN`` and ``SEPA_DEBTOR_BIC``
from the app config or, failing that, the environment. Without them the export is refused; a bank file
with a made-up debtor must never be written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from core.db import db
from payouts.batches.models import PayoutBatch, PayoutLine
from payouts.tax import numbers
from payouts.tax.models import TaxProfile
from payouts.tax.profiles import bank_transfer_problem

SCHEMA = "pain.001.001.03"
DEBTOR_SETTINGS = ("SEPA_DEBTOR_NAME", "SEPA_DEBTOR_IBAN", "SEPA_DEBTOR_BIC")


class SepaRefused(ValueError):
    """The batch cannot be exported as a SEPA file; the message says why."""


@dataclass
class SepaFile:
    xml: bytes
    control_sum_minor: int
    included: list[int] = field(default_factory=list)  # partner ids, in file order
    excluded: dict[int, str] = field(default_factory=dict)  # partner id -> why the line is not in the file


def debtor_settings() -> dict[str, str]:
    """The program's own account, from the app config or the environment; refused when any is missing."""
    values = {name: str(current_app.config.get(name) or os.environ.get(name, "")).strip() for name in DEBTOR_SETTINGS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SepaRefused(f"set {', '.join(missing)} (the program's own account) before exporting a SEPA file")
    try:
        values["SEPA_DEBTOR_IBAN"] = numbers.iban(values["SEPA_DEBTOR_IBAN"])
        values["SEPA_DEBTOR_BIC"] = numbers.bic(values["SEPA_DEBTOR_BIC"])
    except numbers.NumberInvalid as error:
        raise SepaRefused(f"the SEPA debtor account is invalid: {error}") from None
    return values


def exclusion_reason(line: PayoutLine, profile: TaxProfile | None) -> str | None:
    """Why this line cannot be a transfer in the file, or None when it can."""
    if line.status != "payable":
        return f"held: {line.held_reason}"
    if line.net_minor <= 0:
        return "nothing to transfer (net is not positive)"
    # The same rule payability applies when the batch is built: the profile may have changed since.
    return bank_transfer_problem(profile, "EUR")


def _profiles(batch: PayoutBatch) -> dict[int, TaxProfile]:
    ids = [line.partner_id for line in batch.lines]
    return {
        profile.partner_id: profile
        for profile in db.session.scalars(select(TaxProfile).where(TaxProfile.partner_id.in_(ids)))
    }


def _payment(batch: PayoutBatch, line: PayoutLine, profile: TaxProfile | None) -> dict:
    if profile is None or profile.iban is None:  # exclusion_reason() leaves such a line out of the file
        raise SepaRefused(f"partner {line.partner_id} has no IBAN on file for a SEPA transfer")
    payment = {
        "name": profile.account_holder,
        "IBAN": numbers.iban(profile.iban),
        "amount": line.net_minor,
        "execution_date": batch.payout_date,
        "endtoend_id": f"HANDOFF-B{batch.id}-P{line.partner_id}",
        "description": f"Partner commission, payout batch {batch.id}, partner {line.partner_id}",
    }
    if profile.bic:
        payment["BIC"] = profile.bic
    return payment


def build_sepa(batch: PayoutBatch) -> SepaFile:
    """The validated pain.001 file and the lines left out of it, with reasons."""
    from sepaxml import SepaTransfer

    if batch.currency != "EUR":
        raise SepaRefused(f"batch {batch.id} is in {batch.currency}; SEPA transfers are in EUR only")
    if batch.state == "draft":
        raise SepaRefused(f"batch {batch.id} is a draft; approve it before sending it to the bank")
    debtor = debtor_settings()
    sepa = SepaTransfer(
        {
            "name": debtor["SEPA_DEBTOR_NAME"],
            "IBAN": debtor["SEPA_DEBTOR_IBAN"],
            "BIC": debtor["SEPA_DEBTOR_BIC"],
            "batch": True,
            "currency": "EUR",
        },
        schema=SCHEMA,
    )
    result, profiles = SepaFile(xml=b"", control_sum_minor=0), _profiles(batch)
    for line in batch.lines:
        profile = profiles.get(line.partner_id)
        reason = exclusion_reason(line, profile)
        if reason:
            result.excluded[line.partner_id] = reason
            continue
        sepa.add_payment(_payment(batch, line, profile))
        result.included.append(line.partner_id)
        result.control_sum_minor += line.net_minor
    if not result.included:
        raise SepaRefused(
            f"no line of batch {batch.id} can be paid by SEPA transfer: "
            + "; ".join(f"partner {pid}: {why}" for pid, why in result.excluded.items())
        )
    # validate=True checks the file against the pain.001 XSD shipped with sepaxml before we hand it out.
    result.xml = sepa.export(validate=True)
    return result


def excluded_summary(result: SepaFile) -> str:
    """One line of text (ASCII-safe for an HTTP header) naming every line left out and why."""
    return "; ".join(f"partner {pid}: {why}" for pid, why in result.excluded.items())
