"""The tracker's long-lived helpers, built once per app from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from core.keys import derive_key
from core.settings import Settings
from tracker.clicks.recorder import ClickRecorder
from tracker.clicks.records import VisitorHasher
from tracker.program.links import LinkDirectory


@dataclass
class TrackerServices:
    settings: Settings
    token_key: bytes
    refcode_key: bytes
    links: LinkDirectory
    visitors: VisitorHasher
    recorder: ClickRecorder
    redis: object | None

    @classmethod
    def build(cls, settings: Settings, redis) -> TrackerServices:
        refcode_key = derive_key(settings.secret_key, "refcode")
        return cls(
            settings=settings,
            token_key=derive_key(settings.secret_key, "click-token"),
            refcode_key=refcode_key,
            links=LinkDirectory(settings.link_cache_seconds),
            visitors=VisitorHasher(settings.secret_key),
            recorder=ClickRecorder(redis, settings.click_stream_key, refcode_key),
            redis=redis,
        )


def tracker() -> TrackerServices:
    return current_app.extensions["handoff.tracker"]
