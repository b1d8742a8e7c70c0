"""Measure tracker.clicks.useragents against public user-agent corpora.

Run by hand from the repository root:  python bench/bot_corpus.py

Bots: every instance in crawler-user-agents. People: the distinct real-browser
user agents fake-useragent ships. For comparison the same figures are given
for ua-parser's "Spider" device family alone, and a rough per-call cost.

Last, what a flood of distinct junk costs against the cache's cost: N distinct
8,000-character random agents (every one a cache miss) against N browser
agents already cached, and a few distinct agents just under the length that
is refused unparsed, which are classified on their prefix.
"""

from __future__ import annotations

import base64
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import crawleruseragents
import fake_useragent

from tracker.clicks import useragents
from tracker.clicks.useragents import classify_user_agent

SHOW = 20
FLOOD = 2_000  # distinct agents, as in the click benchmark that found the problem (94 req/s against 450)
FLOOD_LENGTH = 8_000


def bot_corpus() -> list[str]:
    return [ua for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for ua in entry["instances"]]


def browser_corpus() -> list[str]:
    path = Path(fake_useragent.__file__).parent / "data" / "browsers.jsonl"
    with path.open(encoding="utf-8") as lines:
        return sorted({json.loads(line)["useragent"] for line in lines if line.strip()})


def is_bot_full(ua: str) -> bool:
    return classify_user_agent(ua).traffic != "human"


def is_bot_spider(ua: str) -> bool:
    return useragents._PARSER.parse(ua).with_defaults().device.family == "Spider"


def report(name: str, is_bot, bots: list[str], browsers: list[str]) -> None:
    missed = [ua for ua in bots if not is_bot(ua)]
    flagged = [ua for ua in browsers if is_bot(ua)]
    recall = 1 - len(missed) / len(bots)
    fp_rate = len(flagged) / len(browsers)
    print(f"== {name}")
    print(f"  bot instances   {len(bots):6d}   recall {recall:8.2%}   missed {len(missed)}")
    print(f"  browser UAs     {len(browsers):6d}   false positives {fp_rate:8.3%}   flagged {len(flagged)}")
    for label, uas in (("missed bots", missed), ("flagged browsers", flagged)):
        if uas:
            print(f"  {label} (first {min(SHOW, len(uas))}):")
            for ua in uas[:SHOW]:
                print(f"    {ua[:160]}")


def per_call_us(func, uas: list[str], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for ua in uas:
            func(ua)
    return (time.perf_counter() - start) / (repeat * len(uas)) * 1e6


def cost(uas: list[str]) -> None:
    uncached = useragents._classify.__wrapped__  # the work behind the lru_cache
    print("== cost per call (mixed bots and browsers)")
    print(f"  uncached classification {per_call_us(uncached, uas, 1):8.1f} us")
    print(f"  ua-parser alone         {per_call_us(useragents._PARSER.parse, uas, 1):8.1f} us")
    classify_user_agent.cache_clear()
    for ua in uas:  # warm the cache
        classify_user_agent(ua)
    print(f"  cached classification   {per_call_us(classify_user_agent, uas, 20):8.2f} us")


def random_agents(count: int, length: int, seed: int) -> list[str]:
    """Distinct printable junk, the kind a client can put in a User-Agent header."""
    rng = random.Random(seed)
    return [base64.b64encode(rng.randbytes(length * 3 // 4 + 3)).decode()[:length] for _ in range(count)]


def flood_cost(browsers: list[str]) -> None:
    cached = [browsers[i % len(browsers)] for i in range(FLOOD)]
    for ua in cached:  # warm the cache
        classify_user_agent(ua)
    junk = random_agents(FLOOD, FLOOD_LENGTH, seed=1)
    under = random_agents(FLOOD // 10, useragents.ABSURD_UA_LENGTH, seed=2)
    cached_us = per_call_us(classify_user_agent, cached, 1)
    print(f"== distinct junk against cached browsers (N={FLOOD})")
    print(f"  {FLOOD:5d} cached browser agents                  {cached_us:9.2f} us")
    for uas, note in (
        (junk, "refused unparsed"),
        (under, f"parsed on their first {useragents.MAX_UA_LENGTH} characters"),
    ):
        us = per_call_us(classify_user_agent, uas, 1)
        label = f"distinct {len(uas[0]):,}-character random agents"
        print(f"  {len(uas):5d} {label:38s} {us:9.2f} us   {us / cached_us:7.1f}x cached   ({note})")


def main() -> None:
    bots, browsers = bot_corpus(), browser_corpus()
    report("tracker.clicks.useragents (Spider + crawler-user-agents + tools + previews)", is_bot_full, bots, browsers)
    report('ua-parser device family "Spider" alone', is_bot_spider, bots, browsers)
    cost(bots + browsers)
    flood_cost(browsers)


if __name__ == "__main__":
    main()
