"""What a file is, read from its first bytes (magic numbers), never from its name. Only kinds a
browser cannot run are accepted: images, PDF, ZIP-based archives and office files, and plain text
(logs, CSV). HTML, SVG, XML, scripts and programs are refused."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

TEXT_PROBE = 64 * 1024  # how much of a text file is checked for being text


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]  # the first is added to a name that has none of them
    inline: bool = False  # shown in the page (an image); everything else only downloads


PNG = Kind("image/png", (".png",), inline=True)
JPEG = Kind("image/jpeg", (".jpg", ".jpeg"), inline=True)
GIF = Kind("image/gif", (".gif",), inline=True)
WEBP = Kind("image/webp", (".webp",), inline=True)
PDF = Kind("application/pdf", (".pdf",))
ZIP = Kind("application/zip", (".zip", ".xlsx", ".docx", ".pptx", ".ods", ".odt"))
GZIP = Kind("application/gzip", (".gz", ".tgz"))
TEXT = Kind("text/plain", (".txt", ".log", ".csv", ".json", ".md"))
ALL = (PNG, JPEG, GIF, WEBP, PDF, ZIP, GZIP, TEXT)

# Markup a browser would render, whatever the name says: refused.
MARKUP = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe", b"<!--")


def detect(head: bytes) -> Kind | None:
    """The kind of a file from its first bytes (at least TEXT_PROBE of them, or all); None: refused."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    return TEXT if _is_plain_text(head) else None


def _is_plain_text(head: bytes) -> bool:
    """UTF-8 (with or without BOM) or GB18030 text without control bytes, not markup."""
    if not head or b"\x00" in head:
        return False
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:  # the probe may end inside a character: decode incrementally, without the final flush
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            break
        except UnicodeDecodeError:
            continue
    if text is None or any((ord(char) < 32 or ord(char) == 127) and char not in "\t\r\n\f" for char in text):
        return False
    start = text.lstrip().lower().encode()
    return not start.startswith(MARKUP)


def is_inline(content_type: str) -> bool:
    """Shown in the page (an image) rather than only downloaded."""
    return any(kind.inline and kind.content_type == content_type for kind in ALL)


def safe_name(name: str, kind: Kind) -> str:
    """The uploaded name without any path, quotes or control characters, ending in an extension of its
    kind (`report.html` holding text becomes `report.html.txt`), at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(char for char in base if char.isprintable() and char not in '"<>:|?*;').strip(" .") or "file"
    if not base.lower().endswith(kind.extensions):
        base += kind.extensions[0]
    if len(base) > 255:
        stem, dot, extension = base.rpartition(".")
        base = stem[: 254 - len(extension)] + dot + extension
    return base
