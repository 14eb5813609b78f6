"""CSV export of report rows (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from app.reports.csv_export import cell, to_csv, to_csv_bytes
from app.reports.timeliness import RateRow


@dataclass(frozen=True)
class Row:
    title: str
    count: int
    rate: float | None
    breached: bool
    at: datetime | None


def test_header_of_english_keys_and_a_bom_for_excel():
    text = to_csv([Row("计费接口超时", 2, 0.5, True, datetime(2026, 3, 2, 1, tzinfo=UTC))])
    assert text == (
        "\ufefftitle,count,rate,breached,at\r\n"
        "计费接口超时,2,0.5,true,2026-03-02T01:00:00+00:00\r\n"
    )  # fmt: skip
    assert to_csv_bytes([RateRow("all", 0, 0, None)]) == b"\xef\xbb\xbfkey,resolved,timely,rate\r\nall,0,0,\r\n"


def test_no_rows_still_gives_the_header_when_the_row_type_is_known():
    assert to_csv([], RateRow) == "\ufeffkey,resolved,timely,rate\r\n"
    with pytest.raises(TypeError):
        to_csv([])
    with pytest.raises(TypeError):
        to_csv([{"key": "all"}])
    with pytest.raises(TypeError):
        to_csv([RateRow("all", 0, 0, None), Row("x", 1, None, False, None)])


def test_quotes_and_formula_like_titles_are_safe():
    text = to_csv([Row('=HYPERLINK("http://x")', -1, -0.5, False, None), Row("a,b\n第二行", 0, None, False, None)])
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://x"")",-1,-0.5,false,'  # numbers keep their sign
    assert '"a,b\n第二行",0,,false,' in text
    assert [cell(value) for value in ("+1", "-x", "@sum", "\tx", "ok", None, False)] == [
        "'+1",
        "'-x",
        "'@sum",
        "'\tx",
        "ok",
        "",
        "false",
    ]
