"""SMS segments: how many parts a text costs, and which encoding carries it.

A text made only of GSM-7 characters travels 160 characters to a single SMS, 153 to a
part of a longer one (characters of the extension table count twice). Any other
character, Arabic script above all, makes the whole text UCS-2: 70 UTF-16 units single,
67 a part. Amane keeps every bot message within `MAX_SEGMENTS` so that it arrives whole
and cheaply on any phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

MAX_SEGMENTS: Final = 3

# 3GPP TS 23.038 default alphabet and its extension table (escape + character).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def encoding_of(text: str) -> Encoding:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return "GSM-7"
    return "UCS-2"


def count_segments(text: str) -> SegmentCount:
    """The encoding, length and number of SMS parts `text` needs."""
    if encoding_of(text) == "GSM-7":
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part = 160, 153
        encoding: Encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    if units <= single:
        segments = 1 if units else 0
    else:
        segments = -(-units // part)
    return SegmentCount(encoding=encoding, units=units, segments=segments)
