"""An uploaded SVG is accepted only if it can do nothing but draw: no script, no event handler, nothing fetched.

A banner is shown on partners' pages and opened on its own from the tracking domain, where a script in it
would run as that domain. The file is refused, never rewritten: a cleaned copy could draw something other
than what its advertiser approved. Entities are refused before parsing (the "billion laughs" and external
entities), as defusedxml would; it is not among the pinned packages, so expat's own handlers do it here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from xml.parsers import expat

from flask_babel import gettext as _

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
ANIMATIONS = {"set", "animate", "animatemotion", "animatetransform", "animatecolor"}
LINK_ATTRIBUTES = {"href", "src"}
# A raster image inlined as data; an SVG inside a data: URL could carry what this check refuses.
SAFE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]", re.IGNORECASE)
URL_CALL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*")


class UnsafeSvg(ValueError):
    pass


@dataclass(frozen=True)
class SvgSize:
    width: int
    height: int


def _refuse_declarations(data: bytes) -> None:
    parser = expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise UnsafeSvg(_("it declares a DOCTYPE or entities; banners may not"))

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    # <?xml-stylesheet?> would fetch a style sheet; the <?xml?> declaration itself is no instruction.
    parser.ProcessingInstructionHandler = refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise UnsafeSvg(_("it is not well-formed XML (%(error)s)", error=str(error))) from None


def _local_name(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _safe_reference(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(SAFE_DATA.match(value))


def _check_urls(text: str, where: str) -> None:
    if "@import" in text.lower():
        raise UnsafeSvg(_("%(where)s imports a style sheet", where=where))
    for match in URL_CALL.finditer(text):
        if not _safe_reference(match.group(2)):
            raise UnsafeSvg(
                _(
                    "%(where)s refers to %(target)s; only #fragments and data: images may be used",
                    where=where,
                    target=repr(match.group(2)[:80]),
                )
            )
    if re.search(r"(java|vb)script\s*:", text, re.IGNORECASE):
        raise UnsafeSvg(_("%(where)s holds a script URL", where=where))


def _check_attribute(tag: str, name: str, value: str) -> None:
    attribute = _local_name(name)
    if attribute.startswith("on"):
        raise UnsafeSvg(_("it holds an event handler (%(attribute)s on <%(tag)s>)", attribute=attribute, tag=tag))
    if attribute in LINK_ATTRIBUTES and not _safe_reference(value):
        message = _(
            "<%(tag)s> links to %(target)s; only #fragments and data: images may be used",
            tag=tag,
            target=repr(value[:80]),
        )
        raise UnsafeSvg(message)
    # <set attributeName="href" to="javascript:..."> would make a link after this check has passed.
    animated = value.lower()
    if tag in ANIMATIONS and attribute == "attributename" and (animated.endswith("href") or animated.startswith("on")):
        raise UnsafeSvg(_("<%(tag)s> animates %(attribute)s", tag=tag, attribute=repr(value)))
    _check_urls(value, _("the %(attribute)s attribute of <%(tag)s>", attribute=attribute, tag=tag))


def _check_element(element: ElementTree.Element) -> None:
    tag = _local_name(element.tag) if isinstance(element.tag, str) else ""
    if tag in FORBIDDEN_ELEMENTS:
        raise UnsafeSvg(_("it holds a <%(tag)s> element", tag=tag))
    for name, value in element.attrib.items():
        _check_attribute(tag, name, value)
    if tag == "style" and element.text:
        _check_urls(element.text, _("a <style> element"))


def _length(value: str | None) -> float | None:
    """A width or height in user units or px; a percentage or other unit says nothing of the pixel size."""
    match = LENGTH.fullmatch(value or "")
    return float(match.group(1)) if match else None


def _size(root: ElementTree.Element) -> SvgSize:
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(box) == 4:
        try:
            box_width, box_height = float(box[2]), float(box[3])
        except ValueError:
            box_width = box_height = 0.0
        width, height = width or box_width, height or box_height
    if not width or not height:
        raise UnsafeSvg(_("it gives no size: set width and height, or a viewBox"))
    return SvgSize(max(1, round(width)), max(1, round(height)))


def check_svg(data: bytes) -> SvgSize:
    """The drawing's size when the SVG is safe to serve as it is; UnsafeSvg says what is not."""
    _refuse_declarations(data)
    root = ElementTree.fromstring(data)
    if root.tag != f"{SVG_NAMESPACE}svg":
        raise UnsafeSvg(_("its root element is not an SVG <svg> element"))
    for element in root.iter():
        _check_element(element)
    return _size(root)
