"""Reading the HTML page of `lead-scoring report`: its section titles, images and table cells."""

from __future__ import annotations

import base64
import re

from lead_scoring.report import SECTIONS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECTION_TITLES = [title for _, title, _, _ in SECTIONS]


def page_images(page: str) -> list[bytes]:
    """Every <img> of the page, decoded; fails on an image that is not an embedded PNG."""
    sources = re.findall(r"<img [^>]*src=\"([^\"]*)\"", page)
    images = []
    for source in sources:
        assert source.startswith("data:image/png;base64,"), source[:80]
        data = base64.b64decode(source.split(",", 1)[1], validate=True)
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
        images.append(data)
    return images


def page_cell(page: str, attrs: str) -> str:
    """The text of the first table cell of the page whose attributes match attrs."""
    match = re.search(rf"<td[^>]*{attrs}[^>]*>([^<]*)</td>", page)
    assert match, f"no cell with {attrs}"
    return match.group(1)
