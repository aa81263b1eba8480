"""Decoding a delivered file. Every source file is UTF-8 by specification; when one is not,
the supplier must be told where, or they cannot find the byte in a thousand-row export."""

from __future__ import annotations


class NotUtf8(ValueError):
    """A delivered file is not UTF-8; the message names the line and the byte, never text."""


def utf8_text(raw: bytes) -> str:
    """The file's text, without the byte-order mark exports often carry."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # the error's offset then indexes `raw`
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise NotUtf8(f"not UTF-8 at line {line} (byte 0x{raw[exc.start]:02X}): ask for the "
                      "file re-exported as UTF-8") from None
