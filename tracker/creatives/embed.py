"""Ready embed code: a banner wrapped in the partner's own link, as HTML and as Markdown."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from tracker.program.models import SUB_IDS


def link_with_subs(link_url: str, subs: dict[str, str | None]) -> str:
    """The link with the sub-ids given; the click path records them in place of the link's defaults."""
    query = urlencode([(name, subs[name]) for name in SUB_IDS if subs.get(name)])
    return f"{link_url}?{query}" if query else link_url


def embed_html(link_url: str, image_url: str, alt: str, width: int, height: int) -> str:
    # rel="sponsored" tells search engines the link is paid placement, as they ask of affiliate links.
    return (
        f'<a href="{escape(link_url)}" rel="sponsored noopener" target="_blank">'
        f'<img src="{escape(image_url)}" width="{width}" height="{height}" alt="{escape(alt)}"></a>'
    )


def _markdown_text(text: str) -> str:
    """Alt text that cannot end the image's brackets early nor bring HTML into the Markdown."""
    out = []
    for char in text:
        if char in "\\[]()`*_<>!#&":
            out.append("\\" + char)
        elif char in "\r\n":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _markdown_url(url: str) -> str:
    # A URL in Markdown's parentheses ends at a space or an unbalanced ')'; percent-encoding keeps it whole.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def embed_markdown(link_url: str, image_url: str, alt: str) -> str:
    return f"[![{_markdown_text(alt)}]({_markdown_url(image_url)})]({_markdown_url(link_url)})"
