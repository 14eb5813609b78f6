"""Server-side SVG charts (app/web/charts.py): pure functions, tested without Flask."""

from __future__ import annotations

from lxml import etree

from app.web import charts

SVG = "{http://www.w3.org/2000/svg}"
NS = {"svg": SVG[1:-1]}
NASTY = "<script>alert('x')</script> & \"quoted\""


def parse(markup) -> etree._Element:
    """The chart as XML: fails on anything that is not well-formed."""
    return etree.fromstring(str(markup).encode("utf-8"))


def bars(root) -> list[etree._Element]:
    return [rect for rect in root.iterfind(".//svg:rect", NS) if "bar" in rect.get("class", "").split()]


def texts(root, css_class: str) -> list[str]:
    return [node.text for node in root.iterfind(".//svg:text", NS) if css_class in node.get("class", "").split()]


def titles(root) -> list[str]:
    return [node.text for node in root.iterfind(".//svg:title", NS)]


# ---------------------------------------------------------------------------------- bar chart


def test_bar_chart_is_an_accessible_well_formed_svg():
    root = parse(charts.bar_chart([("Red", 3), ("Minor", 1)], title="Breaches by level"))
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img" and root.get("aria-label") == "Breaches by level"
    assert root[0].tag == SVG + "title" and root[0].text == "Breaches by level"
    assert root.get("class") == "chart chart-bar"
    assert texts(root, "label") == ["Red", "Minor"]
    assert texts(root, "value") == ["3", "1"]
    assert titles(root)[1:] == ["Red: 3", "Minor: 1"]  # each bar names its label and value
    assert len(root.findall(".//svg:line", NS)) == 1  # the axis


def test_bar_lengths_are_proportional_to_the_values():
    root = parse(charts.bar_chart([("a", 10), ("b", 5), ("c", 2.5), ("d", 0), ("e", None)], title="t"))
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert len(widths) == 5 and widths[0] > 100
    assert widths[1] == round(widths[0] / 2, 2)
    assert widths[2] == round(widths[0] / 4, 2)
    assert widths[3:] == [0.0, 0.0]
    assert texts(root, "value") == ["10", "5", "2.5", "0", "—"]
    starts = {rect.get("x") for rect in bars(root)}
    assert len(starts) == 1  # every bar starts at the axis
    # the largest bar and its value text fit in the chart
    assert float(rect_x := bars(root)[0].get("x")) + widths[0] < float(root.get("width"))
    assert float(rect_x) > 0


def test_bar_classes_and_value_texts_are_the_callers():
    chart = charts.bar_chart(
        [("Red", 0.5), ("Minor", 0.25)],
        title="t",
        classes=["level-red", 'level-"bad" class'],
        value_text=lambda value: f"{value * 100:g}%",
        caption="Share",
    )
    root = parse(chart)
    assert [rect.get("class") for rect in bars(root)] == ["bar level-red", "bar level--bad--class"]
    assert texts(root, "value") == ["50%", "25%"]
    assert texts(root, "caption") == ["Share"]


def test_labels_and_titles_are_escaped():
    chart = str(charts.bar_chart([(NASTY, 3), ("ok\x00\x1b", 1)], title=NASTY, caption=NASTY))
    assert "<script>" not in chart and "alert('x')" not in chart
    root = parse(chart)  # escaped, and without the characters XML forbids
    assert root.get("aria-label") == NASTY
    assert titles(root) == [NASTY, f"{NASTY}: 3", "ok: 1"]
    assert texts(root, "caption") == [NASTY]
    assert texts(root, "label")[1] == "ok"


def test_long_labels_are_clipped_but_kept_whole_in_the_title():
    label = "二线 · 信息系统部" * 10
    root = parse(charts.bar_chart([(label, 1)], title="t", width=400))
    shown = texts(root, "label")[0]
    assert shown.endswith("…") and len(shown) < len(label)
    assert charts.text_width(shown) <= 400 * 0.4
    assert titles(root)[1] == f"{label}: 1"
    assert charts.clip("x" * 100_000, 60) == "x" * 7 + "…"  # 0.6 em each, "…" too: 8 × 7.2 ≤ 60 < 9 × 7.2


def test_empty_bar_chart_is_a_friendly_frame():
    for data in ([], [("a", None), ("b", None)]):
        root = parse(charts.bar_chart(data, title="Breaches", empty_text="No breaches <here>"))
        assert root.get("class") == "chart chart-empty"
        assert root.get("aria-label") == "Breaches: No breaches <here>"
        assert texts(root, "caption") == ["No breaches <here>"]
        assert bars(root) == []
    zeros = parse(charts.bar_chart([("a", 0), ("b", 0)], title="t"))  # zeros are figures, not "no data"
    assert [rect.get("width") for rect in bars(zeros)] == ["0", "0"]


# ---------------------------------------------------------------------------------- line chart


def points(root) -> list[tuple[float, float]]:
    return [(float(c.get("cx")), float(c.get("cy"))) for c in root.iterfind(".//svg:circle", NS)]


def test_line_chart_draws_points_at_their_values_and_breaks_at_gaps():
    data = [("03-01", 1.0), ("03-02", 0.5), ("03-03", None), ("03-04", 0.0), ("03-05", 0.25)]
    root = parse(charts.line_chart(data, title="Rate", y_max=1, value_text=lambda v: f"{v * 100:g}%"))
    assert root.get("class") == "chart chart-line" and root.get("aria-label") == "Rate"
    drawn = points(root)
    assert len(drawn) == 4
    top, half, bottom, quarter = (y for _, y in drawn)
    assert top < half < quarter < bottom
    assert half == (top + bottom) / 2 and quarter == bottom - (bottom - top) / 4
    xs = [x for x, _ in drawn]
    step = round(xs[1] - xs[0], 2)
    assert [round(x - xs[0], 2) for x in xs] == [0, step, round(3 * step, 2), round(4 * step, 2)]  # the gap kept
    paths = [path.get("d") for path in root.iterfind(".//svg:path", NS)]
    assert len(paths) == 2  # 03-01 → 03-02, then 03-04 → 03-05: no line across the gap
    assert all(path.count("M") == 1 and path.count("L") == 1 for path in paths)
    assert texts(root, "axis-label") == ["0%", "25%", "50%", "75%", "100%", "03-01", "03-02", "03-03", "03-04", "03-05"]
    assert texts(root, "value") == ["100%", "50%", "0%", "25%"]
    assert titles(root)[1:] == ["03-01: 100%", "03-02: 50%", "03-04: 0%", "03-05: 25%"]


def test_line_chart_scales_to_a_round_maximum_without_y_max():
    root = parse(charts.line_chart([("a", 3), ("b", 7)], title="Hours", ticks=4))
    assert texts(root, "axis-label")[:5] == ["0", "2.5", "5", "7.5", "10"]


def test_line_chart_thins_its_axis_labels_and_values_when_crowded():
    data = [(f"2026-03-{day:02d}", day / 31) for day in range(1, 32)]
    root = parse(charts.line_chart(data, title="t", y_max=1, width=640))
    days = [text for text in texts(root, "axis-label") if text.startswith("2026")]
    assert days[0] == "2026-03-01" and 4 <= len(days) < 31
    assert texts(root, "value") == []  # 31 points: values in the titles only
    assert len(points(root)) == 31 and titles(root)[1] == "2026-03-01: 0.03"


def test_line_chart_with_one_point_and_escaped_labels():
    root = parse(charts.line_chart([(NASTY, 0.5)], title=NASTY, y_max=1))
    assert len(points(root)) == 1 and root.findall(".//svg:path", NS) == []
    assert texts(root, "axis-label")[-1] == "<script>alert('…"  # clipped on the axis, whole in the title
    assert titles(root) == [NASTY, f"{NASTY}: 0.5"]
    assert "<script>" not in str(charts.line_chart([(NASTY, 0.5)], title=NASTY))


def test_empty_line_chart_is_a_friendly_frame():
    for data in ([], [("2026-03-01", None), ("2026-03-02", None)]):
        root = parse(charts.line_chart(data, title="Rate", empty_text="Nothing was resolved."))
        assert root.get("class") == "chart chart-empty"
        assert texts(root, "caption") == ["Nothing was resolved."]
        assert points(root) == []


def test_text_widths_count_wide_characters_as_one_em():
    assert charts.text_width("计费") == 24
    assert charts.text_width("ab") == 2 * 12 * 0.6
    assert charts.number_text(3.0) == "3" and charts.number_text(2.25) == "2.25"
    assert charts.number_text(1 / 3) == "0.33" and charts.number_text(2.5) == "2.5"
