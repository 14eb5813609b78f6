"""A file's kind comes from its bytes, never its name; what a browser could run is refused."""

from __future__ import annotations

import pytest

from app.attachments import types

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PNG, types.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", types.JPEG),
        (b"GIF89a\x01\x00", types.GIF),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", types.WEBP),
        (b"%PDF-1.7\n", types.PDF),
        (b"PK\x03\x04\x14\x00", types.ZIP),
        (b"\x1f\x8b\x08\x00", types.GZIP),
        ("2026-03-02 09:00:01 ERROR 计费接口超时\n".encode(), types.TEXT),
        ("2026-03-02 错误：余额不更新\r\n".encode("gb18030"), types.TEXT),
        ("\ufeffa,b\n1,2\n".encode(), types.TEXT),
    ],
)
def test_accepted_kinds(head, kind):
    assert types.detect(head) is kind


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script>",
        b"  <html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?><x/>',
        b"<script>alert(1)</script>",
        b"MZ\x90\x00\x03\x00",  # a Windows program
        b"\x7fELF\x02\x01\x01",  # a Linux program
        b"\x00\x01\x02",
        b"",
    ],
)
def test_markup_programs_and_binaries_are_refused(head):
    assert types.detect(head) is None


def test_a_name_gets_the_extension_of_its_content_and_loses_its_path():
    assert types.safe_name("report.html", types.TEXT) == "report.html.txt"
    assert types.safe_name("../../etc/passwd", types.TEXT) == "passwd.txt"
    assert types.safe_name("C:\\Users\\张伟\\截图.PNG", types.PNG) == "截图.PNG"
    assert types.safe_name('"a;b".pdf', types.PDF) == "ab.pdf"
    assert types.safe_name("导出.xlsx", types.ZIP) == "导出.xlsx"
    assert types.safe_name("..", types.PDF) == "file.pdf"
    long = types.safe_name("x" * 400 + ".log", types.TEXT)
    assert len(long) == 255 and long.endswith(".log")
