"""Payout benchmark: a month's batch over a million approved commissions, with tax, and its exports.

Run by hand: ``python bench/payouts.py [--commissions 1000000] [--partners 10000]``. It builds a
PostgreSQL database (migrated as in production), seeds partners with tax profiles (ru_individual,
ru_self_employed and ru_company_osno in turn) and, in set-based SQL, an 'accrued' ledger row and its
'approved' settling row for every commission, spread over the partners, in RUB, accrued in June 2026
and approved in July. Then, in this process and inside an app context, it times ``create_batch`` for
July, the CSV and XLSX exports of the batch, its approval and ``mark_paid``, checks that both files sum
to the batch totals to the cent and that the payment paid every item once, and reports the process's
peak resident memory. ``--database`` names the scratch database (dropped and made again).

Targets (the issue): batch at most 60 s, each export at most 30 s, mark-paid at most 10 s, memory under
500 MB.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as bench

# This file is bench/payouts.py: with bench/ on the path, ``import payouts`` would find it instead of
# the package, so only the project root stays.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE = "handoff_bench_payouts"
BENCH = Path(__file__).resolve().parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_PREFIX = "bench:payouts:"
PERIOD_END = date(2026, 7, 31)
PAYOUT_DATE = date(2026, 8, 5)  # within every regime's validity (NPD runs through 2028)
TARGETS = {"batch_s": 60.0, "export_s": 30.0, "mark_paid_s": 10.0, "peak_rss_mb": 500.0}
# (regime, profile kind, INN): valid inputs as payouts.tax.profiles.clean_profile stores them.
REGIMES = (
    ("ru_individual", "individual", "500100732259"),
    ("ru_self_employed", "self_employed", "500100732259"),
    ("ru_company_osno", "company", "7707083893"),
)


def reset_database(name: str = DATABASE) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{bench.HOST}:5432/{name}"


def seed(db_url: str, commissions: int, partners: int, offer_id: int) -> None:
    """Partners with profiles, and per commission an accrual and its approval, all in SQL.

    An accrual needs a conversion, unique per (conversion, partner, role): commission g goes to
    partner g % partners on conversion g / partners, so ceil(commissions / partners) conversions do.
    """
    started = time.monotonic()
    conversions = -(-commissions // partners)
    regimes = ", ".join(f"('{code}', '{kind}', '{inn}', {i})" for i, (code, kind, inn) in enumerate(REGIMES))
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"""
            CREATE TEMP TABLE bench_partners AS
            WITH new AS (
                INSERT INTO partners (name, contact_email, kind, country, tier, status, created_at)
                SELECT 'Bench partner ' || g, 'p' || g || '@bench.example', 'affiliate', 'RU', 'standard', 'active',
                       timestamp '2026-01-01'
                FROM generate_series(1, {partners}) AS g
                RETURNING id)
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM new""")
        conn.execute(f"""
            INSERT INTO tax_profiles (partner_id, kind, country, tax_resident, tax_id, vat_registered, vat_number,
                                      regime_code, pays, regime_inputs, iban, bic, account_holder, forms,
                                      self_billing_agreement, updated_at)
            SELECT p.id, r.kind, 'RU', true, r.inn, false, NULL, r.code, 'gross', '{{}}', NULL, NULL, NULL, '[]',
                   false, timestamp '2026-01-01'
            FROM bench_partners p JOIN (VALUES {regimes}) AS r (code, kind, inn, i) ON r.i = p.n % {len(REGIMES)}""")
        conn.execute(f"""
            INSERT INTO conversions (offer_id, event, order_id, occurred_at, received_at, source, status,
                                     partner_id, carrier, review_reasons, attribution_notes)
            SELECT {offer_id}, 'sale', 'BENCH-' || g, timestamp '2026-06-01', timestamp '2026-06-01', 'api',
                   'approved', (SELECT min(id) FROM bench_partners), 'token', '[]', '{{}}'
            FROM generate_series(0, {conversions - 1}) AS g""")
        conn.execute("""
            CREATE TEMP TABLE bench_conversions AS
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM conversions WHERE order_id LIKE 'BENCH-%'""")
        # Accruals in June, each approved 30 days later: in July, before the batch's period end.
        conn.execute(f"""
            INSERT INTO ledger_entries (partner_id, offer_id, conversion_id, kind, role, amount_minor, currency,
                                        approve_after, actor, reason, created_at)
            SELECT p.id, {offer_id}, c.id, 'accrued', 'partner', 1000 + (g::bigint * 7919) % 500000, 'RUB',
                   timestamp '2026-06-01' + (g % 30) * interval '1 day' + interval '30 days', 'bench',
                   'bench: 8% of the sale', timestamp '2026-06-01' + (g % 30) * interval '1 day'
                                                   + (g % 86400) * interval '1 second'
            FROM generate_series(0, {commissions - 1}) AS g
            JOIN bench_partners p ON p.n = g % {partners}
            JOIN bench_conversions c ON c.n = g / {partners}""")
        conn.execute("""
            INSERT INTO ledger_entries (partner_id, offer_id, conversion_id, kind, settles_id, amount_minor, currency,
                                        actor, reason, created_at)
            SELECT partner_id, offer_id, conversion_id, 'approved', id, amount_minor, currency, 'bench', '',
                   approve_after
            FROM ledger_entries WHERE kind = 'accrued' AND actor = 'bench'""")
        conn.execute("VACUUM ANALYZE")
        owed = conn.execute("SELECT count(*), sum(amount_minor) FROM ledger_entries WHERE kind = 'approved'").fetchone()
    print(
        f"seeded {partners:,} partners with profiles and {owed[0]:,} approved commissions "
        f"({owed[1]:,} minor units of RUB) in {time.monotonic() - started:.0f} s"
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def csv_sums(data: bytes) -> tuple[int, dict[str, Decimal]]:
    from payouts.exports.spreadsheets import AMOUNTS, FIRST_AMOUNT_COLUMN, read_amount

    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    next(reader)
    sums, count = dict.fromkeys(AMOUNTS, Decimal(0)), 0
    for row in reader:
        count += 1
        for i, name in enumerate(AMOUNTS):
            sums[name] += read_amount(row[FIRST_AMOUNT_COLUMN + i])
    return count, sums


def xlsx_sums(path: Path) -> tuple[int, dict[str, Decimal], dict[str, Decimal]]:
    from openpyxl import load_workbook

    from payouts.exports.spreadsheets import AMOUNTS, FIRST_AMOUNT_COLUMN, read_amount

    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    body, total = rows[:-1], rows[-1]
    sums = {
        name: sum((read_amount(r[FIRST_AMOUNT_COLUMN + i]) for r in body), Decimal(0)) for i, name in enumerate(AMOUNTS)
    }
    written = {name: read_amount(total[FIRST_AMOUNT_COLUMN + i]) for i, name in enumerate(AMOUNTS)}
    return len(body), sums, written


def run(env: dict, work: Path, args) -> dict:
    """create_batch and the exports in this process, timed, with the peak memory after each."""
    os.environ.update(env)
    os.chdir(bench.ROOT)
    from app import app  # reads the production settings from the environment just set
    from core.db import db
    from core.money import to_major
    from payouts.batches.lifecycle import create_batch, totals
    from payouts.exports.spreadsheets import AMOUNTS, to_csv, to_xlsx

    figures = {"rss_before_mb": round(rss_mb(), 1)}
    with app.app_context():
        started = time.monotonic()
        batch = create_batch(PERIOD_END, "RUB", PAYOUT_DATE, 0, "bench")
        figures["batch_s"] = round(time.monotonic() - started, 2)
        figures["rss_after_batch_mb"] = round(rss_mb(), 1)
        batch_id = batch.id
        lines = len(batch.lines)
        held = sum(line.status == "held" for line in batch.lines)
        sums = totals(batch)
        # Every approved commission claimed once, by the line of its partner: the batch pays them all.
        items, claimed = db.session.execute(
            db.text(
                "SELECT count(*), coalesce(sum(e.amount_minor), 0) FROM payout_items i "
                "JOIN ledger_entries e ON e.id = i.ledger_entry_id WHERE i.batch_id = :batch"
            ),
            {"batch": batch_id},
        ).one()
        db.session.remove()  # each export starts, like the CLI, from the batch id alone

    from payouts.batches.models import PayoutBatch

    def timed_export(name: str, render) -> bytes:
        # Each export starts, like the CLI, from the batch id alone, in a fresh session.
        with app.app_context():
            started = time.monotonic()
            data = render(db.session.get(PayoutBatch, batch_id))
            (work / f"batch.{name}").write_bytes(data)
            figures[f"{name}_s"] = round(time.monotonic() - started, 2)
            figures[f"rss_after_{name}_mb"] = round(rss_mb(), 1)
            figures[f"{name}_bytes"] = len(data)
            db.session.remove()
        return data

    data = timed_export("csv", to_csv)
    csv_rows, csv_totals = csv_sums(data)
    del data
    timed_export("xlsx", to_xlsx)
    paid = pay(app, batch_id, figures)
    figures["peak_rss_mb"] = round(rss_mb(), 1)  # taken before the check below reads the XLSX back
    xlsx_rows, xlsx_totals, xlsx_written = xlsx_sums(work / "batch.xlsx")

    expected = {name: to_major(sums[name], "RUB") for name in AMOUNTS}
    checks = {
        "items": items == args.commissions and claimed == sums["amount_minor"],
        "csv_rows": csv_rows == lines,
        "xlsx_rows": xlsx_rows == lines,
        "csv_totals": csv_totals == expected,
        "xlsx_totals": xlsx_totals == expected,
        "xlsx_total_row": xlsx_written == expected,
        # One 'paid' row per payable line, together the sum of the items, and every item reads paid.
        "paid": paid == (lines - held, claimed, 0),
    }
    return {
        "batch_id": batch_id,
        "lines": lines,
        "held": held,
        "items": items,
        "totals_minor": {"amount_minor": sums["amount_minor"], **{k: sums[k] for k in AMOUNTS}},
        "figures": figures,
        "checks": checks,
    }


def pay(app, batch_id: int, figures: dict) -> tuple[int, int, int]:
    """Approve the batch, then time ``mark_paid`` as the CLI runs it; returns (paid rows, their sum,
    items not read as paid)."""
    from sqlalchemy import func, select

    from core.db import db
    from payouts.batches.lifecycle import approve_batch, mark_paid
    from payouts.batches.models import PayoutBatch, PayoutItem
    from payouts.ledger.models import LedgerEntry
    from payouts.ledger.payments import is_paid

    with app.app_context():
        started = time.monotonic()
        approve_batch(db.session.get(PayoutBatch, batch_id))
        figures["approve_s"] = round(time.monotonic() - started, 2)
        figures["rss_after_approve_mb"] = round(rss_mb(), 1)
        db.session.remove()
    with app.app_context():
        started = time.monotonic()
        mark_paid(db.session.get(PayoutBatch, batch_id), "bench")
        figures["mark_paid_s"] = round(time.monotonic() - started, 2)
        figures["rss_after_mark_paid_mb"] = round(rss_mb(), 1)
        rows, total = db.session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
                LedgerEntry.kind == "paid", LedgerEntry.payout_batch_id == batch_id
            )
        ).one()
        unpaid = db.session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .join(PayoutItem, PayoutItem.ledger_entry_id == LedgerEntry.id)
            .where(PayoutItem.batch_id == batch_id, ~is_paid(LedgerEntry))
        )
        db.session.remove()
    return rows, int(total), unpaid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commissions", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    secret = "bench-" + os.urandom(24).hex()
    work = Path(tempfile.mkdtemp(prefix="handoff-bench-payouts-"))
    db_url = reset_database(args.database)
    env = bench.handoff_env(db_url, bench.free_port(), secret, str(work), REDIS_PREFIX)
    bench.flask_cli(env, "migrate")
    demo = json.loads(bench.flask_cli(env, "demo", "--json"))
    seed(db_url, args.commissions, args.partners, demo["offer"]["id"])
    result = run(env, work, args)
    result.update(
        commissions=args.commissions,
        partners=args.partners,
        period_end=PERIOD_END.isoformat(),
        payout_date=PAYOUT_DATE.isoformat(),
        targets=TARGETS,
        files=str(work),
        machine={"cpus": os.cpu_count(), "python": platform.python_version()},
    )
    report(result)


def report(result: dict) -> None:
    f = result["figures"]
    print(
        f"\n{result['commissions']:,} approved commissions over {result['partners']:,} partners; "
        f"batch {result['batch_id']}: {result['lines']:,} lines, {result['held']:,} held"
    )
    rows = (
        ("batch", f["batch_s"], TARGETS["batch_s"], f["rss_after_batch_mb"]),
        ("csv", f["csv_s"], TARGETS["export_s"], f["rss_after_csv_mb"]),
        ("xlsx", f["xlsx_s"], TARGETS["export_s"], f["rss_after_xlsx_mb"]),
        ("approve", f["approve_s"], None, f["rss_after_approve_mb"]),
        ("mark-paid", f["mark_paid_s"], TARGETS["mark_paid_s"], f["rss_after_mark_paid_mb"]),
    )
    print(f"{'step':<9} {'seconds':>8} {'target s':>9} {'peak RSS MB':>12}")
    for name, seconds, target, rss in rows:
        missed = target is not None and seconds > target
        shown = "-" if target is None else f"{target:.0f}"
        print(f"{name:<9} {seconds:>8.2f} {shown:>9} {rss:>12.1f}{'  MISSED' if missed else ''}")
    peak = f["peak_rss_mb"]
    print(
        f"peak RSS {peak:.1f} MB (target < {TARGETS['peak_rss_mb']:.0f})"
        f"{'' if peak < TARGETS['peak_rss_mb'] else '  MISSED'}; "
        f"before the batch {f['rss_before_mb']:.1f} MB"
    )
    t = result["totals_minor"]
    print(
        f"totals (minor units of RUB): owed {t['amount_minor']:,}, gross {t['gross_minor']:,}, "
        f"net {t['net_minor']:,}, company cost {t['company_cost_minor']:,}"
    )
    print("checks: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in result["checks"].items()))
    (BENCH / "results").mkdir(exist_ok=True)
    ((BENCH / "results") / "payouts-latest.json").write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
