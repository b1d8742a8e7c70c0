"""Finance exports of a payout batch: SEPA pain.001, the accounting journal, statements and self-billed invoices."""

from __future__ import annotations

import csv
import io
import os
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal

import pytest
import sepaxml
import xmlschema
from sqlalchemy import select

from core.db import db
from payouts.batches.lifecycle import approve_batch, create_batch, mark_paid, totals
from payouts.exports.sepa import SepaRefused, build_sepa
from payouts.ledger.entries import adjust
from payouts.tax.models import TaxProfile
from tests.factories import PartnerFactory, auth
from tests.payouts.batches.test_batches import (
    JULY,
    PAYDAY,
    approve_all,
    by_partner,
    give_profile,
)
from tests.payouts.ledger_helpers import running_program

XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DEBTOR = {
    "SEPA_DEBTOR_NAME": "Handoff Program GmbH",
    "SEPA_DEBTOR_IBAN": "DE02120300000000202051",
    "SEPA_DEBTOR_BIC": "BYLADEM1001",
}
DE_COMPANY = {
    "kind": "company",
    "country": "DE",
    "tax_resident": True,
    "vat_registered": True,
    "vat_number": "DE136695976",
    "regime_code": "eu_domestic_vat",
    "regime_inputs": {"vat_country": "DE"},
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "account_holder": "Müller Vertrieb GmbH",
}


@pytest.fixture
def program(app):
    yield from running_program(app)


@pytest.fixture
def debtor(app):
    app.config.update(DEBTOR)
    yield
    for name in DEBTOR:
        app.config.pop(name, None)


def eur_batch(program, approve=True):
    """Two DE companies with IBANs (19% VAT), one without an IBAN (held), bonuses in EUR."""
    first, second, no_iban = PartnerFactory(), PartnerFactory(), PartnerFactory()
    db.session.commit()
    give_profile(first, **DE_COMPANY, self_billing_agreement=True)
    give_profile(second, **DE_COMPANY | {"iban": "FR1420041010050500013M02606", "bic": None})
    give_profile(no_iban, **DE_COMPANY | {"iban": None, "bic": None, "account_holder": None})
    for partner, minor in ((first, 123457), (second, 98765), (no_iban, 50000)):
        adjust(partner.id, minor, "EUR", "launch bonus", "finance")
    batch = create_batch(JULY, "EUR", PAYDAY, 0, "test")
    return (approve_batch(batch) if approve else batch), (first, second, no_iban)


def _amounts(root, path) -> list[Decimal]:
    return [Decimal(node.text) for node in root.findall(path, NS)]


def test_the_sepa_file_validates_and_sums_to_the_batch_to_the_cent(program, debtor):
    batch, (_, _, no_iban) = eur_batch(program)
    response = program.client.get(f"/api/v1/payout-batches/{batch.id}/export.sepa.xml", headers=program.finance)
    assert response.status_code == 200, response.json
    xmlschema.XMLSchema(XSD).validate(response.data.decode())  # the official XSD sepaxml ships
    root = ET.fromstring(response.data)
    net_total = Decimal(totals(batch)["net_minor"]).scaleb(-2)
    assert net_total == Decimal("1469.14") + Decimal("1175.30")  # gross + 19% VAT each
    assert _amounts(root, ".//p:GrpHdr/p:CtrlSum") == [net_total]
    assert sum(_amounts(root, ".//p:PmtInf/p:CtrlSum")) == net_total
    assert sum(_amounts(root, ".//p:CdtTrfTxInf/p:Amt/p:InstdAmt")) == net_total
    assert root.find(".//p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert root.find(".//p:Dbtr/p:Nm", NS).text == "Handoff Program GmbH"
    assert {node.text for node in root.findall(".//p:CdtrAcct//p:IBAN", NS)} == {
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
    }
    assert "Muller Vertrieb GmbH" in response.data.decode()  # transliterated to the SEPA character set
    assert f"partner {no_iban.id}: held: no IBAN on file" in response.headers["X-Sepa-Excluded"]
    assert program.client.get(f"/api/v1/payout-batches/{batch.id}", headers=program.finance).json["state"] == "exported"


def test_a_line_without_an_iban_is_left_out_with_the_reason(program, debtor):
    batch, (first, second, no_iban) = eur_batch(program)
    # The profile lost its IBAN after the batch was approved: the line is payable but cannot be a transfer.
    db.session.scalar(select(TaxProfile).where(TaxProfile.partner_id == second.id)).iban = None
    db.session.commit()
    result = build_sepa(batch)
    assert result.excluded == {
        second.id: "no IBAN on file for a EUR bank transfer",
        no_iban.id: "held: no IBAN on file for a EUR bank transfer",
    }
    assert result.included == [first.id]
    assert result.control_sum_minor == by_partner(batch)[first.id].net_minor == 146914
    xmlschema.XMLSchema(XSD).validate(result.xml.decode())
    assert ET.fromstring(result.xml).find(".//p:GrpHdr/p:CtrlSum", NS).text == "1469.14"


def test_sepa_is_refused_without_a_debtor_a_draft_or_outside_eur(program, monkeypatch, tmp_path):
    for name in DEBTOR:
        monkeypatch.delenv(name, raising=False)
    batch, _ = eur_batch(program)
    with pytest.raises(SepaRefused, match="set SEPA_DEBTOR_NAME, SEPA_DEBTOR_IBAN, SEPA_DEBTOR_BIC"):
        build_sepa(batch)
    refused = program.client.get(f"/api/v1/payout-batches/{batch.id}/export.sepa.xml", headers=program.finance)
    assert refused.status_code == 409 and "SEPA_DEBTOR_IBAN" in refused.json["error"]
    for name, value in DEBTOR.items():
        monkeypatch.setenv(name, value)  # the environment serves when the config does not say
    out = tmp_path / "batch.xml"
    result = program.client.application.test_cli_runner().invoke(
        args=["payouts", "export", "--batch", str(batch.id), "--format", "sepa", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "left out partner" in result.output and "no IBAN on file" in result.output
    xmlschema.XMLSchema(XSD).validate(out.read_text())

    give_profile(program.plain)
    adjust(program.plain.id, 100000, "RUB", "bonus", "finance")
    rub = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    with pytest.raises(SepaRefused, match="in RUB; SEPA transfers are in EUR only"):
        build_sepa(rub)
    adjust(program.plain.id, 100, "EUR", "bonus", "finance")
    with pytest.raises(SepaRefused, match="draft"):
        build_sepa(create_batch(JULY, "EUR", PAYDAY, 0, "test"))


def _journal(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _money(value: str) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def _check_journal(rows: list[dict], batch) -> None:
    debits, credits = defaultdict(Decimal), defaultdict(Decimal)
    for row in rows:
        debits[row["partner_id"]] += _money(row["debit"])
        credits[row["partner_id"]] += _money(row["credit"])
    assert debits == credits  # per line
    assert sum(debits.values()) == sum(credits.values()) > 0  # in total
    sums = totals(batch)
    payable = sum(_money(row["credit"]) for row in rows if row["account"] == "payable to partner")
    assert payable == Decimal(sums["net_minor"]).scaleb(-2)
    withheld = sum(_money(row["credit"]) for row in rows if row["account"] == "withholding payable")
    assert withheld == Decimal(sums["withholding_minor"]).scaleb(-2)
    payable_ids = {str(line.partner_id) for line in batch.lines if line.status == "payable"}
    assert {row["partner_id"] for row in rows} == payable_ids  # held lines post nothing


def test_the_journal_balances_per_line_and_in_total(program, tmp_path):
    give_profile(program.plain)  # withholding and contributions
    give_profile(program.gold, pays="net")
    program.convert("P-1", amount="1234567.89", coupon="PLAIN")
    program.convert("G-1", amount="3333.33", coupon="GOLD")
    program.convert("S-1", amount="1000.00")  # held: no profiles
    approve_all(program)
    batch = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    response = program.client.get(f"/api/v1/payout-batches/{batch.id}/export.journal.csv", headers=program.finance)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _journal(response.data)
    _check_journal(rows, batch)
    accounts = {row["account"] for row in rows if row["partner_id"] == str(program.plain.id)}
    assert accounts == {
        "commission expense",
        "contributions expense",
        "payable to partner",
        "withholding payable",
        "contributions payable",
    }
    assert (
        program.client.get(f"/api/v1/payout-batches/{batch.id}/export.journal.csv", headers=program.vendor).status_code
        == 403
    )


def test_the_journal_posts_vat_of_a_eur_batch_through_the_cli(program, tmp_path):
    batch, _ = eur_batch(program, approve=False)
    out = tmp_path / "journal.csv"
    result = program.client.application.test_cli_runner().invoke(
        args=["payouts", "export", "--batch", str(batch.id), "--format", "journal", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = _journal(out.read_bytes())
    _check_journal(rows, batch)
    vat = sum(_money(row["debit"]) for row in rows if row["account"] == "input VAT (recoverable)")
    assert vat == Decimal(totals(batch)["vat_minor"]).scaleb(-2) == Decimal("234.57") + Decimal("187.65")


def _cells(html: str, table: str) -> list[list[str]]:
    """The body rows of one of the statement's tables, as cell texts."""
    section = html.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        for row in re.findall(r"<tr>(.*?)</tr>", section, re.DOTALL)
        if "<td" in row
    ]


def _figure(html: str, name: str) -> str:
    return re.sub(r"<[^>]+>", "", html.split(f'id="{name}">', 1)[1].split("</td>", 1)[0]).split()[0]


def test_the_statement_lists_every_commission_clawback_and_adjustment_and_matches_the_line(program):
    give_profile(program.plain)
    paid_then_reversed = program.convert("P-0", amount="10000.00", coupon="PLAIN")  # 800.00
    approve_all(program)
    first = approve_batch(create_batch(JULY, "RUB", PAYDAY, 0, "test"))
    mark_paid(first)
    program.decide(paid_then_reversed, "approve")
    program.decide(paid_then_reversed, "reverse")  # after payment: a clawback of 800.00 in the next batch
    program.convert("P-1", amount="50000.00", coupon="PLAIN")  # 4,000.00
    program.convert("P-2", amount="25000.00", coupon="PLAIN")  # 2,000.00
    approve_all(program)
    adjust(program.plain.id, 150000, "RUB", "quarterly bonus", "finance")
    batch = create_batch(JULY, "RUB", PAYDAY, 0, "test")
    line = by_partner(batch)[program.plain.id]
    url = f"/api/v1/payout-batches/{batch.id}/statements/{program.plain.id}.html"
    response = program.client.get(url, headers=program.finance)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    assert _cells(html, "commissions") == [
        ["2031-06-10", "sale", "P-1", "RUB50,000.00", "RUB4,000.00"],
        ["2031-06-10", "sale", "P-2", "RUB25,000.00", "RUB2,000.00"],
    ]
    assert _cells(html, "clawbacks") == [["2031-06-10", "sale", "P-0", "-RUB800.00"]]
    assert _cells(html, "adjustments") == [["2031-06-10", "quarterly bonus", "RUB1,500.00"]]
    assert _figure(html, "owed") == "RUB6,700.00" and line.amount_minor == 670000
    for name, field in (
        ("gross", "gross_minor"),
        ("withheld", "withholding_minor"),
        ("vat", "vat_minor"),
        ("net", "net_minor"),
    ):
        assert _figure(html, name) == f"RUB{Decimal(getattr(line, field)).scaleb(-2):,.2f}", name
    assert "Self-billed invoice" not in html

    own = program.client.get(url, headers=auth("partner", partner_id=program.plain.id))
    assert own.status_code == 200
    other = program.client.get(url, headers=auth("partner", partner_id=program.gold.id))
    assert other.status_code == 404
    assert (
        program.client.get(
            f"/api/v1/payout-batches/{batch.id}/statements/{program.gold.id}.html", headers=program.finance
        ).status_code
        == 404
    )  # no line in this batch
    assert program.client.get(url, headers=program.vendor).status_code == 403


def test_a_self_billed_invoice_only_with_an_agreement(program):
    batch, (first, second, _) = eur_batch(program)
    invoice = program.client.get(f"/api/v1/payout-batches/{batch.id}/invoices/{first.id}.html", headers=program.finance)
    assert invoice.status_code == 200
    html = invoice.data.decode()
    assert "Self-billed invoice" in html and "DE136695976" in html
    assert _cells(html, "adjustments") == [["2031-06-10", "launch bonus", "€1,234.57"]]
    assert _figure(html, "net") == "€1,469.14"
    refused = program.client.get(
        f"/api/v1/payout-batches/{batch.id}/invoices/{second.id}.html", headers=program.finance
    )
    assert refused.status_code == 409
    assert refused.json["error"] == (
        f"partner {second.id} has no self-billing agreement on its tax profile; the partner must issue its own invoice"
    )
    statement = program.client.get(
        f"/api/v1/payout-batches/{batch.id}/statements/{second.id}.html", headers=auth("partner", partner_id=second.id)
    )
    assert statement.status_code == 200 and "Self-billed invoice" not in statement.data.decode()
