"""Banner files on disk: where they live, how they are served, and the demo offer's sample set."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory
from sqlalchemy import select

from core.db import db
from tracker.creatives.models import Banner
from tracker.program.models import Offer
from tracker.services import tracker

bp = Blueprint("banner_files", __name__)

# The common IAB sizes: medium rectangle, leaderboard, wide skyscraper, mobile leaderboard.
SAMPLE_SIZES = ((300, 250), (728, 90), (160, 600), (320, 50))
# Every served URL carries ?v=<sha256 prefix>: a changed file gets a new URL, so a year's caching is safe.
IMMUTABLE = "public, max-age=31536000, immutable"
# An SVG opened on its own is a document: it may run no script and load nothing, only its inline styles.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_MIME_BY_SUFFIX = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}


def banner_folder() -> Path:
    return Path(current_app.root_path) / "static" / "banners"


def upload_folder() -> Path:
    """Banners advertisers upload: in the instance folder, as static/ holds only the files Handoff ships."""
    return Path(current_app.instance_path) / "banners"


def banner_url(banner: Banner) -> str:
    return f"{tracker().settings.public_base_url}/banners/{banner.file_name}?v={banner.sha256[:16]}"


def sample_file_name(offer_slug: str, width: int, height: int) -> str:
    return f"{offer_slug}-{width}x{height}.svg"


def add_sample_banners(offer: Offer, created_by: str) -> list[Banner]:
    """The offer's banners for the files ``<slug>-<width>x<height>.svg`` shipped in the banner folder.

    Repeatable: a banner already recorded gets the file's current digest instead of a second row.
    """
    banners = []
    for width, height in SAMPLE_SIZES:
        file_name = sample_file_name(offer.slug, width, height)
        path = banner_folder() / file_name
        if not path.is_file():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        banner = db.session.scalar(select(Banner).where(Banner.file_name == file_name))
        if banner is None:
            banner = Banner(
                offer_id=offer.id,
                name=f"{offer.name} {width}x{height}",
                width=width,
                height=height,
                mime_type=_MIME_BY_SUFFIX[path.suffix],
                file_name=file_name,
                created_by=created_by,
            )
            db.session.add(banner)
        banner.sha256 = digest
        banners.append(banner)
    db.session.flush()
    return banners


@bp.get("/banners/<file_name>")
def banner_file(file_name: str):
    suffix = Path(file_name).suffix.lower()
    if suffix not in _MIME_BY_SUFFIX:
        abort(404)
    folder = banner_folder() if (banner_folder() / file_name).is_file() else upload_folder()
    # send_from_directory refuses names that leave the folder; a missing file is its 404.
    response = send_from_directory(folder, file_name, mimetype=_MIME_BY_SUFFIX[suffix], max_age=None)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    if suffix == ".svg":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    return response
