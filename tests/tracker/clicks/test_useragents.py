import json
from pathlib import Path

import crawleruseragents
import fake_useragent
import pytest

from tracker.clicks import useragents
from tracker.clicks.useragents import ABSURD_UA_LENGTH, MAX_UA_LENGTH, UserAgentInfo, classify_user_agent

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/135.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.3.1 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 18_3_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.3.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/135.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 12; SM-T500) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 Safari/537.36"
)


def crawler_instances() -> list[str]:
    return [ua for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for ua in entry["instances"]]


def browser_user_agents() -> list[str]:
    path = Path(fake_useragent.__file__).parent / "data" / "browsers.jsonl"
    with path.open(encoding="utf-8") as lines:
        return sorted({json.loads(line)["useragent"] for line in lines if line.strip()})


def test_bot_recall_on_crawler_user_agents_is_at_least_99_percent():
    bots = crawler_instances()
    missed = [ua for ua in bots if classify_user_agent(ua).traffic == "human"]
    assert len(bots) > 1000
    assert len(missed) / len(bots) <= 0.01, missed[:20]


def test_real_browsers_are_almost_never_flagged():
    browsers = browser_user_agents()
    flagged = [ua for ua in browsers if classify_user_agent(ua).traffic != "human"]
    assert len(browsers) > 500
    assert len(flagged) / len(browsers) <= 0.001, flagged[:20]


@pytest.mark.parametrize(
    "user_agent",
    [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "TelegramBot (like TwitterBot)",
        "WhatsApp/2.23.20.0 A",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
        "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
        "Microsoft Office Existence Discovery",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    ],
)
def test_link_preview_fetchers_are_preview(user_agent):
    info = classify_user_agent(user_agent)
    assert info.traffic == "preview"
    assert info.device == "bot"


@pytest.mark.parametrize(
    "user_agent",
    ["curl/8.5.0", "python-requests/2.32.3", "Go-http-client/2.0", "", "   ", None],
)
def test_tools_and_missing_user_agents_are_bots(user_agent):
    info = classify_user_agent(user_agent)
    assert info.traffic == "bot"
    assert info.device == "bot"


@pytest.mark.parametrize(
    ("user_agent", "device", "os", "browser"),
    [
        (CHROME_WINDOWS, "desktop", "Windows", "Chrome"),
        (SAFARI_IPHONE, "mobile", "iOS", "Mobile Safari"),
        (SAFARI_IPAD, "tablet", "iOS", "Mobile Safari"),
        (CHROME_ANDROID_PHONE, "mobile", "Android", "Chrome Mobile"),
        (CHROME_ANDROID_TABLET, "tablet", "Android", "Chrome"),
    ],
)
def test_real_browsers_are_human_with_device_os_and_browser(user_agent, device, os, browser):
    assert classify_user_agent(user_agent) == UserAgentInfo("human", device, os, browser)


@pytest.mark.parametrize(
    "user_agent",
    [
        # "Sonic" is a crawler-user-agents pattern
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Slack/4.35.126 Chrome/118.0.5993.159 Electron/27.1.2 Safari/537.36 Sonic Slack_SSB/4.35.126",
        # so is this Android build id
        "Mozilla/5.0 (Linux; Android 15; Pixel 9 Build/AP3A.240617.008) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    ],
)
def test_crawler_patterns_matching_real_browsers_are_not_applied(user_agent):
    assert classify_user_agent(user_agent).traffic == "human"


def test_crawler_patterns_python_rejects_are_skipped(monkeypatch):
    entries = [{"pattern": "Good[bB]ot", "instances": []}, {"pattern": "Bad(bot", "instances": []}]
    monkeypatch.setattr(useragents.crawleruseragents, "CRAWLER_USER_AGENTS_DATA", entries)
    regex = useragents._crawler_regex()
    assert regex.search("Mozilla/5.0 (compatible; GoodBot/1.0)")
    assert not regex.search("Mozilla/5.0 (compatible; Bad(bot/1.0)")


def test_repeated_user_agent_is_served_from_the_cache():
    user_agent = CHROME_WINDOWS + " test-cache"
    first = classify_user_agent(user_agent)
    hits = classify_user_agent.cache_info().hits
    second = classify_user_agent(user_agent)
    assert second is first
    assert classify_user_agent.cache_info().hits == hits + 1


def test_overlong_user_agents_are_truncated_before_lookup():
    padding = "x" * MAX_UA_LENGTH
    first = classify_user_agent(CHROME_WINDOWS + padding + "a")
    assert classify_user_agent(CHROME_WINDOWS + padding + "b") is first
    assert first.traffic == "human"


class ParserMustNotRun:
    def parse(self, ua):
        raise AssertionError(f"parsed a {len(ua)}-character user agent")


def test_absurdly_long_user_agents_are_bots_without_parsing_or_caching(monkeypatch):
    monkeypatch.setattr(useragents, "_PARSER", ParserMustNotRun())
    before = classify_user_agent.cache_info()
    for index in range(200):
        # A browser's agent padded past the bound: each one distinct, as a flood of junk would be.
        info = classify_user_agent(CHROME_WINDOWS + f" {index:04d}" + "x" * ABSURD_UA_LENGTH)
        assert info.traffic == "bot" and info.device == "bot"
    after = classify_user_agent.cache_info()
    assert (after.currsize, after.misses, after.hits) == (before.currsize, before.misses, before.hits)


def test_user_agents_up_to_the_bound_are_classified_on_their_prefix(monkeypatch):
    seen_lengths = []
    real_parser = useragents._PARSER

    class Recording:
        def parse(self, ua):
            seen_lengths.append(len(ua))
            return real_parser.parse(ua)

    monkeypatch.setattr(useragents, "_PARSER", Recording())
    head = CHROME_WINDOWS + " prefix-test "
    longest = head + "y" * (ABSURD_UA_LENGTH - len(head))
    assert len(longest) == ABSURD_UA_LENGTH
    info = classify_user_agent(longest)
    assert info.traffic == "human" and info.browser == "Chrome"
    assert seen_lengths == [MAX_UA_LENGTH]
    # Any tail after the prefix is the same cache entry: junk appended to one agent cannot fill the cache.
    assert classify_user_agent(longest[:-1] + "z") is info
    assert seen_lengths == [MAX_UA_LENGTH]
    assert classify_user_agent(longest + "z").traffic == "bot"


def test_the_prefix_holds_every_agent_of_both_corpora():
    # The bound cuts no real agent, so the recall and false-positive figures are those of the whole agents.
    assert max(len(ua) for ua in crawler_instances() + browser_user_agents()) < MAX_UA_LENGTH < ABSURD_UA_LENGTH


@pytest.mark.parametrize("control", ["\x00", "\x01", "\n", "\x1f", "\x7f"])
def test_user_agents_with_control_characters_are_bots_and_never_copied_into_families(control):
    info = classify_user_agent(SAFARI_IPHONE + f" {control}Bot/1.0")
    assert info == useragents.UNREADABLE
    assert not any(char in field for field in (info.os, info.browser, info.device) for char in control)


def test_a_tab_in_a_user_agent_is_allowed():
    assert classify_user_agent(CHROME_WINDOWS.replace(" ", "\t", 1)).traffic == "human"
