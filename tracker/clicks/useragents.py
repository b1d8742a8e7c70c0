"""Classify a request's User-Agent: human, bot or link preview, plus device/OS/browser.

A click on a partner link only counts if a person made it, so three sources of
robot evidence are combined: ua-parser's "Spider" device, the community list of
crawler patterns from crawler-user-agents, and a few HTTP-library tokens that
neither of those covers well. Previews get their own traffic class because B2B
links travel by mail and chat, whose servers fetch every link before (or
instead of) the recipient clicking it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import crawleruseragents
from ua_parser import BestAvailableResolver, DefaultedResult, Parser, load_lazy_builtins

log = logging.getLogger(__name__)

CACHE_SIZE = 50_000
# Browsers' user agents are 100-300 characters (the longest of fake-useragent's
# 839 is 251, of crawler-user-agents' 2,123 instances 285), and the tokens that
# say what a client is come first. Classifying only this prefix bounds the work
# of an uncached lookup, which grows with the length (about 5 us a character,
# most of it in the crawler patterns), and the memory a cache entry can pin;
# padding after it maps onto the same cache entry.
MAX_UA_LENGTH = 512
# Twice the prefix and over three times the longest agent in either corpus: no
# browser sends this much, so it is junk or an attack. Such values are classed
# as bots after a length check, never parsed nor cached, so distinct huge agents
# cost what a cached one costs and cannot flush the cache.
ABSURD_UA_LENGTH = 1024
# Header values may hold a tab but no other control character (RFC 9110); a
# browser never sends one, and ua-parser would copy it into the stored families.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Link-preview fetchers and mail/chat link scanners (case-insensitive regex
# fragments). They hit a link because it was pasted or mailed, not clicked.
# Only fetcher-specific tokens are listed: the chat apps' own in-app browsers
# and desktop clients (e.g. "Slack/4.x", "[FBAN/...", "LinkedInApp") are people.
PREVIEW_AGENTS = (
    # chat apps unfurling a pasted link
    r"Slackbot",
    r"Slack-ImgProxy",
    r"Discordbot",
    r"TelegramBot",
    r"WhatsApp",  # also what Signal sends for its client-side previews
    r"Viber",
    r"SkypeUriPreview",
    r"MicrosoftPreview",  # Skype and Teams
    r"Mattermost-Bot",
    r"Rocket\.Chat",
    r"Chatwork LinkPreview",
    # Microsoft Office resolving a link before handing it to the browser
    r"Microsoft Office",
    r"ms-office",
    r"MSOffice",
    # mail security gateways and providers rewriting / pre-scanning links
    r"BingPreview",  # Outlook.com / Microsoft 365 link scanning
    r"Google-Safety",
    r"GoogleImageProxy",
    r"YahooMailProxy",
    r"Yahoo Link Preview",
    r"Mimecast",
    r"Proofpoint",
    r"Barracuda",
    # social networks and embed services building a card for a shared link
    r"facebookexternalhit",
    r"Facebot",
    r"meta-externalfetcher",
    r"Twitterbot",
    r"LinkedInBot",
    r"Pinterestbot",
    r"pinterest\.com/bot",
    r"redditbot",
    r"vkShare",
    r"Snap ?URL ?Preview",
    r"BlueskyPreviewBot",
    r"Iframely",
    r"Embedly",
    r"Applebot",  # Siri / Spotlight link suggestions
    r"Google Web Preview",
    r"LinkPreview",
    r"UnfurlBot",
)

# HTTP libraries, command-line tools and headless browsers: never a person
# clicking, and several are missing from crawler-user-agents or ua-parser.
TOOL_AGENTS = (
    r"\bcurl/",
    r"\bWget\b",
    r"python-requests",
    r"python-urllib",
    r"\baiohttp\b",
    r"python-httpx",
    r"Go-http-client",
    r"\bokhttp\b",
    r"\bJava/",
    r"Apache-HttpClient",
    r"libwww-perl",
    r"\bHTTPie/",
    r"PostmanRuntime",
    r"node-fetch",
    r"\baxios/",
    r"\bundici\b",
    r"\bScrapy\b",
    r"GuzzleHttp",
    r"HeadlessChrome",
    r"PhantomJS",
    r"\bPuppeteer\b",
    r"\bPlaywright\b",
    r"\bSelenium\b",
)

# crawler-user-agents patterns that also match what people's browsers send.
# Left out: a false "bot" drops a real click, which costs more than the few
# rare bots these patterns were written for.
AMBIGUOUS_CRAWLER_PATTERNS = frozenset(
    {
        r"AP3A\.240617\.008",  # an Android build id: every phone on that build sends it
        r"Sonic",  # Slack's desktop app sends "Sonic Slack_SSB/4.x"
        r"MetaIAB Facebook",  # the Facebook app's in-app browser, used by people
        r"Fluid",  # a macOS site-specific browser, used by people
    }
)

DESKTOP_OSES = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Fedora",
        "Debian",
        "Chrome OS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
TABLET_FAMILIES = frozenset({"iPad", "Kindle", "Generic Tablet"})


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    traffic: str  # "human", "bot" or "preview"
    device: str  # "desktop", "mobile", "tablet", "bot" or "other"
    os: str  # ua-parser OS family, e.g. "Windows", "iOS", "Other"
    browser: str  # ua-parser user-agent family, e.g. "Chrome", "Other"


def _alternation(fragments: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    """One regex for many fragments: a single scan per user agent."""
    return re.compile("|".join(f"(?:{f})" for f in fragments), flags)


def _crawler_regex() -> re.Pattern[str]:
    """crawler-user-agents' patterns, minus the ambiguous ones and any `re` rejects.

    The list is written for Go/JavaScript engines; a pattern `re` rejects is
    logged and skipped rather than breaking the import. Each is checked inside
    a group because that is how it is joined (inline flags, for instance, are
    only legal at the very start of the whole expression).
    """
    usable = []
    for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA:
        if entry["pattern"] in AMBIGUOUS_CRAWLER_PATTERNS:
            continue
        try:
            re.compile(f"(?:{entry['pattern']})")
        except re.error as exc:
            log.warning("skipping crawler pattern %r: %s", entry["pattern"], exc)
        else:
            usable.append(entry["pattern"])
    return _alternation(usable)  # case-sensitive, as the list is maintained


_PREVIEW_RE = _alternation(PREVIEW_AGENTS, re.IGNORECASE)
_TOOL_RE = _alternation(TOOL_AGENTS, re.IGNORECASE)
_CRAWLER_RE = _crawler_regex()
# BestAvailableResolver is ua-parser-rs's Rust resolver when installed (~15x the
# pure-Python one). No ua-parser cache: our lru_cache already sits in front.
_PARSER = Parser(BestAvailableResolver(load_lazy_builtins()))


def _traffic(ua: str, parsed: DefaultedResult) -> str:
    if not ua:
        return "bot"  # browsers always send a User-Agent
    if _PREVIEW_RE.search(ua):  # checked first: most previewers also look like bots
        return "preview"
    if parsed.device.family == "Spider" or _TOOL_RE.search(ua) or _CRAWLER_RE.search(ua):
        return "bot"
    return "human"


def _device(ua: str, parsed: DefaultedResult) -> str:
    family, os_family = parsed.device.family, parsed.os.family
    if family in TABLET_FAMILIES or "Tablet" in (parsed.device.brand or ""):
        return "tablet"
    if os_family == "Android":
        # Android tablets' browsers drop the "Mobile" token phones send.
        return "mobile" if "Mobile" in ua else "tablet"
    if os_family == "iOS" or family in ("iPhone", "iPod"):
        return "mobile"  # iPads were caught above
    if os_family in DESKTOP_OSES:
        return "desktop"
    return "mobile" if "Mobile" in ua else "other"


# An agent too long or holding a control character: classed without being parsed.
UNREADABLE = UserAgentInfo("bot", "bot", "Other", "Other")


@lru_cache(maxsize=CACHE_SIZE)
def _classify(ua: str) -> UserAgentInfo:
    if _CONTROL.search(ua):
        return UNREADABLE
    parsed = _PARSER.parse(ua).with_defaults()
    traffic = _traffic(ua, parsed)
    device = "bot" if traffic != "human" else _device(ua, parsed)
    return UserAgentInfo(traffic, device, parsed.os.family, parsed.user_agent.family)


def classify_user_agent(user_agent: str | None) -> UserAgentInfo:
    """Classify a User-Agent header value; repeated values are served from a cache."""
    ua = user_agent or ""
    if len(ua) > ABSURD_UA_LENGTH:
        return UNREADABLE
    return _classify(ua[:MAX_UA_LENGTH].strip())


# Expose the cache's statistics and reset on the public function.
classify_user_agent.cache_info = _classify.cache_info  # type: ignore[attr-defined]
classify_user_agent.cache_clear = _classify.cache_clear  # type: ignore[attr-defined]
