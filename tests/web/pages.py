"""Reading server-rendered pages in tests: one section, one table row."""

from __future__ import annotations


def section(page: str, testid: str) -> str:
    """The <section> marked with this data-testid."""
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</section>", start)]


def row_of(page: str, text: str) -> str:
    """The one table row that contains the text."""
    rows = [row for row in page.split("<tr")[1:] if text in row]
    assert len(rows) == 1, f"{text!r} is in {len(rows)} rows"
    return rows[0].split("</tr>")[0]
