"""A photographed signed sheet, for cash payments."""

import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile


def _png_sheet() -> bytes:
    """A small grey PNG standing in for a photographed signed sheet: a ruled
    table with a scribble in the signature column. Built by hand so the demo
    needs no imaging library."""
    width, height = 240, 160
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            ruled = y % 20 == 0 or x in (0, 60, 160, 239) or y == height - 1
            scribble = 170 < x < 230 and y % 20 > 4 and abs((x * 7 + y * 3) % 23 - 11) < 2
            row.append(40 if ruled or scribble else 245)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


SHEET = _png_sheet()


def signed_sheet(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.png", SHEET, content_type="image/png")
