"""What one conversion costs in-process: database statements, Python function calls and CPU, without wrk.

Run by hand: ``python bench/conversion_cost.py [--conversions 2000] [--clicks 100000]``. It builds its own
PostgreSQL database with bench/conversions.py's seed (clicks, companies bound by leads), then posts
conversions through Flask's test client in this process: once by click token, once by a colleague's email.
Statements are counted with SQLAlchemy's ``before_cursor_execute``; function calls with cProfile in a
second pass. Function calls do not depend on what else the machine runs; the CPU times do (the best batch
of 50 is the least disturbed). Redis must be running, as in production (the API key, plan and endpoint
caches need it).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import conversions as bench_conversions
import harness as bench

# bench/conversions.py puts bench/ first again; bench/payouts.py must not shadow the payouts package.
sys.path.sort(key=lambda entry: entry == str(Path(__file__).resolve().parent))

DATABASE = "handoff_bench_conversion_cost"
REDIS_PREFIX = "bench:conversion-cost:"


def build(clicks: int) -> tuple[dict, str, Path]:
    bench_conversions.DATABASE = DATABASE
    secret = "bench-" + os.urandom(24).hex()
    work = Path(tempfile.mkdtemp(prefix="handoff-bench-conversion-cost-"))
    db_url = bench_conversions.reset_database()
    env = bench.handoff_env(db_url, bench.free_port(), secret, str(work), REDIS_PREFIX)
    bench.flask_cli(env, "migrate")
    key = json.loads(bench.flask_cli(env, "demo", "--json"))["keys"]["advertiser"]
    bench_conversions.drop_demo_plan(db_url)  # as bench/conversions.py by default: the conversion path alone
    bench_conversions.seed(db_url, clicks)
    bench_conversions.write_tokens(secret, clicks, work / "tokens.txt")
    return env, key, work / "tokens.txt"


def body(mode: str, run: str, n: int, tokens: list[str]) -> dict:
    if mode == "token":
        carrier: dict = {"token": tokens[n % len(tokens)]}
    else:
        carrier = {"customer": {"email": f"buyer{n}@company{n % bench_conversions.COMPANIES}.example"}}
    order = {"offer": "demo-crm", "event": "sale", "order_id": f"{run}-{n}", "amount": "99.90", "currency": "EUR"}
    return order | carrier


def measure(client, headers, mode: str, count: int, tokens: list[str], engine) -> dict:
    from sqlalchemy import event

    statements: collections.Counter[str] = collections.Counter()

    def note(conn, cursor, statement, parameters, context, executemany):
        statements[" ".join(statement.split())[:60]] += 1

    def post(run: str, n: int) -> None:
        response = client.post("/api/v1/conversions", json=body(mode, run, n, tokens), headers=headers)
        assert response.status_code == 201, response.get_json(silent=True)

    run = f"{mode}-{time.time_ns()}"
    for n in range(50):  # warm: compiled statements, prepared statements, the key and config caches
        post(run, n)
    event.listen(engine, "before_cursor_execute", note)
    cpu = []
    for n in range(50, 50 + count):
        started = time.process_time()
        post(run, n)
        cpu.append(time.process_time() - started)
    event.remove(engine, "before_cursor_execute", note)
    profile = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
    profile.enable()
    for n in range(50 + count, 50 + 2 * count):
        post(run, n)
    profile.disable()
    batches = [sum(cpu[i : i + 50]) / 50 for i in range(0, len(cpu) - 49, 50)]
    return {
        "statements": sum(statements.values()) / count,
        "by_statement": {s: c / count for s, c in statements.most_common()},
        "function_calls": pstats.Stats(profile).total_calls / count,  # type: ignore[attr-defined]
        "profile": profile,
        "cpu_ms_median": 1000 * sorted(cpu)[len(cpu) // 2],
        "cpu_ms_best_batch": 1000 * min(batches),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversions", type=int, default=2000)
    parser.add_argument("--clicks", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with the most own time")
    args = parser.parse_args()
    env, key, tokens_path = build(args.clicks)
    os.environ.update(env)
    from app import create_app
    from core.db import db

    app = create_app()
    tokens = tokens_path.read_text().split()
    with app.app_context():
        engine = db.engine
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    print(f"{args.conversions:,} conversions each way, in-process ({args.clicks:,} clicks seeded)")
    print(f"{'attribution':<12} {'statements':>10} {'calls':>8} {'CPU ms median':>14} {'best batch':>11}")
    for mode in ("token", "customer"):
        result = measure(client, headers, mode, args.conversions, tokens, engine)
        print(
            f"{mode:<12} {result['statements']:>10.2f} {result['function_calls']:>8.0f} "
            f"{result['cpu_ms_median']:>14.2f} {result['cpu_ms_best_batch']:>11.2f}"
        )
        for statement, per in result["by_statement"].items():
            print(f"{'':<12} {per:>10.2f}  {statement}")
        if args.top:
            pstats.Stats(result["profile"]).sort_stats("tottime").print_stats(args.top)
    print("plus, per request, SQLAlchemy's pool ping and the COMMIT (round trips that are no statement here)")


if __name__ == "__main__":
    main()
