"""Conversion benchmark: server-to-server posts per second against a busy program's database.

Run by hand: ``python bench/conversions.py [--duration 15] [--clicks 1000000]``. It builds a
PostgreSQL database with a million clicks and 100,000 companies already bound to partners by earlier
leads, starts Handoff in production mode under gunicorn (with Redis and the worker, as in
bench/clicks.py), and loads ``POST /api/v1/conversions`` with wrk at 16 connections: once attributing
by click token, once by a colleague's email at a bound company. It prints conversions per second,
p50 and p99, each party's CPU per conversion, and checks that every 201 is one stored conversion.

By default the demo offer's commission plan is removed, so the figure is the conversion path itself, as in
the earlier rows of the README. ``--priced`` keeps the plan: each conversion then accrues a commission under
its partner's lock, and ``--partners N`` spreads the clicks and bound companies over N partners (one partner
takes every conversion's lock in turn).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as bench

from core.keys import derive_key
from tracker.clicks.tokens import issue_token

DATABASE = "handoff_bench_conversions"
BENCH = Path(__file__).resolve().parent
LUA = BENCH / "conversions.lua"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_PREFIX = "bench:conversions:"
WORKER_NICE = 10
COMPANIES = 100_000
TOKENS = 50_000
CLICK_ID_BASE = 10**15
GUNICORN = {"worker_class": "sync", "workers": 4, "threads": 1}


def reset_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"postgresql://postgres@{bench.HOST}:5432/{DATABASE}"


def seed(db_url: str, clicks: int, partners: int = 1) -> None:
    """A million clicks over 80 days, and companies bound to partners by leads, written in SQL.

    With ``partners`` above 1, that many bench partners (each with a link on the demo offer) share the clicks
    and companies round robin; else demo-resell has them all.
    """
    started = time.monotonic()
    with psycopg.connect(db_url, autocommit=True) as conn:
        link_id, offer_id, partner_id = conn.execute(
            "SELECT id, offer_id, partner_id FROM links WHERE code = 'demo-resell'"
        ).fetchone()
        if partners > 1:
            _add_partners(conn, offer_id, partners)
            link_id = f"(SELECT id FROM links WHERE code = 'bench-' || (g % {partners}))"
            partner_id = f"(SELECT partner_id FROM links WHERE code = 'bench-' || (g % {partners}))"
        conn.execute(f"""
            INSERT INTO clicks (id, created_at, link_id, offer_id, partner_id, ref_code, traffic, device, os,
                                browser, ip_prefix, visitor_hash, is_unique)
            SELECT {CLICK_ID_BASE} + g, now() AT TIME ZONE 'UTC' - (g % 80) * interval '1 day'
                   - (g % 86400) * interval '1 second', {link_id}, {offer_id}, {partner_id},
                   'B' || lpad(g::text, 8, '0'), 'human', 'desktop', 'Windows', 'Chrome',
                   '198.51.' || (g % 250) || '.0/24', md5(g::text), true
            FROM generate_series(1, {clicks}) AS g""")
        conn.execute(f"""
            INSERT INTO conversions (offer_id, event, order_id, occurred_at, received_at, source, status,
                                     partner_id, carrier, customer_domain, review_reasons, attribution_notes)
            SELECT {offer_id}, 'lead', 'SEED-' || g, now() AT TIME ZONE 'UTC' - interval '30 days',
                   now() AT TIME ZONE 'UTC', 'api', 'approved', {partner_id}, 'token',
                   'company' || g || '.example', '[]', '{{}}'
            FROM generate_series(0, {COMPANIES - 1}) AS g""")
        conn.execute("""
            INSERT INTO customer_bindings (offer_id, key_type, key_value, partner_id, conversion_id, bound_at)
            SELECT offer_id, 'domain', customer_domain, partner_id, id, occurred_at
            FROM conversions WHERE order_id LIKE 'SEED-%'""")
        conn.execute("ANALYZE")
    print(
        f"seeded {clicks:,} clicks and {COMPANIES:,} bound companies over {partners:,} partner(s) "
        f"in {time.monotonic() - started:.0f} s"
    )


def _add_partners(conn, offer_id: int, partners: int) -> None:
    conn.execute(f"""
        INSERT INTO partners (name, contact_email, kind, country, tier, status, created_at)
        SELECT 'Bench partner ' || g, 'bench' || g || '@partner.example', 'affiliate', 'DE', 'standard', 'active',
               now() AT TIME ZONE 'UTC'
        FROM generate_series(0, {partners - 1}) AS g""")
    conn.execute(f"""
        INSERT INTO links (code, partner_id, offer_id, created_at)
        SELECT 'bench-' || substr(name, 15), id, {offer_id}, now() AT TIME ZONE 'UTC'
        FROM partners WHERE name LIKE 'Bench partner %'""")


def drop_demo_plan(db_url: str) -> None:
    """The conversion path alone: without a plan nothing is priced (the ledger only asks for the plan)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM commission_plans")


def write_tokens(secret: str, clicks: int, path: Path) -> None:
    key = derive_key(secret, "click-token")
    now = int(time.time())
    ids = random.Random(7).sample(range(1, clicks + 1), min(TOKENS, clicks))
    path.write_text("\n".join(issue_token(key, CLICK_ID_BASE + i, now) for i in ids) + "\n")


def run_wrk(port: int, mode: str, duration: int, env: dict, groups: dict[str, int] | None = None) -> dict:
    cmd = [
        "wrk",
        "-t2",
        "-c16",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{bench.HOST}:{port}/api/v1/conversions",
    ]
    before = bench.cpu_snapshot(groups or {})
    done = subprocess.run(
        cmd, env={**os.environ, **env, "BENCH_MODE": mode}, capture_output=True, text=True, timeout=duration + 60
    )
    after = bench.cpu_snapshot(groups or {})
    line = next((out for out in done.stdout.splitlines() if out.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    # Each party's CPU per conversion, whatever share of the two cores it got: what limits the rate.
    result["cpu"] = bench.cpu_budget(before, after, result["requests"], result["duration_us"] / 1e6)
    return result


def stored_by_carrier(db_url: str, run: str) -> dict:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT coalesce(carrier, 'none'), count(*) FROM conversions WHERE order_id LIKE %s GROUP BY 1",
            (f"{run}-%",),
        ).fetchall()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--priced", action="store_true", help="keep the demo's commission plan")
    parser.add_argument("--partners", type=int, default=1, help="spread clicks and companies over N partners")
    args = parser.parse_args()
    bench.ensure_wrk()
    secret = "bench-" + os.urandom(24).hex()
    work = Path(tempfile.mkdtemp(prefix="handoff-bench-conversions-"))
    db_url = reset_database()
    port = bench.free_port()
    env = bench.handoff_env(db_url, port, secret, str(work), REDIS_PREFIX)
    bench.flask_cli(env, "migrate")
    demo = json.loads(bench.flask_cli(env, "demo", "--json"))
    if not args.priced:
        drop_demo_plan(db_url)
    seed(db_url, args.clicks, args.partners)
    write_tokens(secret, args.clicks, work / "tokens.txt")
    processes = []
    try:
        web = bench.start("web", bench.gunicorn_cmd("app:app", port, GUNICORN), cwd=bench.ROOT, env=env, logs=work)
        processes.append(web)
        processes.append(
            bench.start(
                "worker",
                [sys.executable, "-m", "flask", "--app", "app", "worker"],
                cwd=bench.ROOT,
                env=env,
                logs=work,
                nice=WORKER_NICE,
            )
        )
        bench.wait_ready(web, port, "/healthz", 200)
        groups = {"web": processes[0].pid, "worker": processes[1].pid}
        load_env = {
            "BENCH_KEY": demo["keys"]["advertiser"],
            "BENCH_TOKENS": str(work / "tokens.txt"),
            "BENCH_COMPANIES": str(COMPANIES),
        }
        run_wrk(port, "token", 3, {**load_env, "BENCH_RUN": "warmup"})
        results = {}
        for mode in ("token", "customer"):
            bench.wait_quiet()
            result = run_wrk(port, mode, args.duration, {**load_env, "BENCH_RUN": mode}, groups)
            result["stored"] = stored_by_carrier(db_url, mode)
            results[mode] = result
    finally:
        for process in reversed(processes):
            bench.stop(process)
    report(results, args)


def report(results: dict, args) -> None:
    print(
        f"\n{args.clicks:,} clicks, {COMPANIES:,} bound companies; gunicorn {bench.describe(GUNICORN)}; "
        f"wrk -t2 -c16 -d{args.duration}s; {'priced' if args.priced else 'no commission plan'}, "
        f"{args.partners:,} partner(s)"
    )
    print(f"{'attribution':<12} {'conv/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'201s':>8}  stored by carrier")
    for mode, result in results.items():
        created = result["statuses"].get("201", 0)
        print(
            f"{mode:<12} {result['rps']:>8.0f} {result['latency_us']['p50'] / 1000:>8.1f} "
            f"{result['latency_us']['p99'] / 1000:>8.1f} {created:>8}  {result['stored']}"
        )
        spent = result["cpu"]["ms_per_request"]
        print(f"{'':<12} CPU ms per conversion: " + ", ".join(f"{k} {v:.2f}" for k, v in spent.items()))
        other = {k: v for k, v in result["statuses"].items() if k != "201"}
        if other:
            print(f"{'':<12} other statuses: {other}")
    (BENCH / "results").mkdir(exist_ok=True)
    ((BENCH / "results") / "conversions-latest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
