"""Checking an uploaded banner: its type read from its bytes, its size and dimensions read from the file.

The name and the type the browser declares are only claims; a file whose bytes say otherwise is refused,
so a page or script named banner.png never becomes a banner. Pillow is not among the pinned packages, so
the dimensions come from the headers of each format, which is all a banner needs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import PurePath

from flask_babel import gettext as _

from tracker.creatives.svg_check import UnsafeSvg, check_svg

MAX_BYTES = 500 * 1024
MAX_SIDE = 2000
SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg"}
TYPE_NAMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/svg+xml": "SVG"}
# What a name or a declared type claims; anything else (no suffix, application/octet-stream) claims nothing.
CLAIMED_BY_SUFFIX = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
# JPEG start-of-frame markers, which carry the size; C4, C8 and CC are other segments in that range.
SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class BannerRefused(ValueError):
    pass


@dataclass(frozen=True)
class CheckedBanner:
    mime_type: str
    width: int
    height: int


def detect_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096]:
        return "image/svg+xml"
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise BannerRefused(_("The PNG file is damaged: it has no image header."))
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _gif_size(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        raise BannerRefused(_("The GIF file is damaged: it has no image header."))
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in SOF_MARKERS:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    raise BannerRefused(_("The JPEG file is damaged: no frame header gives its size."))


def _claims(file_name: str, declared: str | None) -> set[str]:
    claims = (
        {CLAIMED_BY_SUFFIX[suffix]} if (suffix := PurePath(file_name).suffix.lower()) in CLAIMED_BY_SUFFIX else set()
    )
    declared = (declared or "").split(";")[0].strip().lower()
    if declared.startswith("image/"):
        claims.add("image/jpeg" if declared in ("image/jpg", "image/pjpeg") else declared)
    return claims


def _dimensions(mime_type: str, data: bytes) -> tuple[int, int]:
    if mime_type == "image/svg+xml":
        try:
            size = check_svg(data)
        except UnsafeSvg as unsafe:
            raise BannerRefused(_("The SVG was refused: %(problem)s.", problem=str(unsafe))) from None
        return size.width, size.height
    return {"image/png": _png_size, "image/gif": _gif_size, "image/jpeg": _jpeg_size}[mime_type](data)


def check_banner(data: bytes, file_name: str, declared: str | None) -> CheckedBanner:
    """The banner's type and dimensions when it may be stored; BannerRefused says why not."""
    if not data:
        raise BannerRefused(_("Choose a file to upload."))
    if len(data) > MAX_BYTES:
        raise BannerRefused(_("The file is %(size)s KB; a banner may be at most 500 KB.", size=len(data) // 1024))
    mime_type = detect_type(data)
    if mime_type is None:
        raise BannerRefused(_("This file is not a PNG, JPEG, GIF or SVG image."))
    claims = _claims(file_name, declared)
    if claims and claims != {mime_type}:
        raise BannerRefused(
            _(
                "The file claims to be %(claimed)s but its content is %(actual)s; upload it under its real type.",
                claimed=", ".join(sorted(TYPE_NAMES.get(c, c) for c in claims)),
                actual=TYPE_NAMES[mime_type],
            )
        )
    width, height = _dimensions(mime_type, data)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise BannerRefused(
            _(
                "The image is %(width)s×%(height)s pixels; a banner may be at most 2000×2000.",
                width=width,
                height=height,
            )
        )
    return CheckedBanner(mime_type, width, height)
