"""SMS segments, and every bot message of the default flow within 3 of them."""

from __future__ import annotations

import csv

import pytest

from bot.channels.base import ReplyButton, numbered_text
from bot.channels.sms import MAX_SEGMENTS, count_segments
from bot.conversation.set_aside import APOLOGY
from bot.flows.registry import FlowRegistry
from bot.settings import PROJECT_ROOT
from bot.types import NEEDS, VARIETIES, Variety


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "GSM-7", 0, 0),
    ("salam", "GSM-7", 5, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # the extension table counts twice
    ("Écoute : 8350, à toute heure", "GSM-7", 28, 1),
    ("Être", "UCS-2", 4, 1),  # Ê is not GSM-7: the whole text becomes UCS-2
    ("ا" * 70, "UCS-2", 70, 1),
    ("ا" * 71, "UCS-2", 71, 2),
    ("ا" * 134, "UCS-2", 134, 2),
    ("ا" * 135, "UCS-2", 135, 3),
    ("😀", "UCS-2", 2, 1),  # outside the BMP: two UTF-16 units
])
def test_segments(text: str, encoding: str, units: int, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def _longest_town_names() -> dict[str, str]:
    with open(PROJECT_ROOT / "data" / "geo" / "cities.csv", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["kind"].startswith("commune")]
    # A town with a case worth writing about: the longest names among the big ones.
    big = sorted(rows, key=lambda r: -int(r["population"] or 0))[:200]
    return {"fr": max((r["name_fr"] for r in big), key=len),
            "ar": max((r["name_ar"] for r in big), key=len)}


def _longest_province_names() -> dict[str, str]:
    with open(PROJECT_ROOT / "data" / "geo" / "provinces.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {"fr": max((r["name_fr"] for r in rows), key=len),
            "ar": max((r["name_ar"] for r in rows), key=len)}


def _bot_messages() -> list[tuple[str, Variety, str]]:
    """Every message of the default flow as it would be sent by SMS, with the longest
    values its placeholders can take (all six needs, a long town and province name, a
    reference)."""
    flow = FlowRegistry.from_directory(PROJECT_ROOT / "config" / "flows").get("intake")
    towns = _longest_town_names()
    provinces = _longest_province_names()
    messages: list[tuple[str, Variety, str]] = []
    for variety in VARIETIES:
        separator = "، " if variety in ("ary", "ar") else ", "
        values = {
            "reference": "AM-K7XR3P",
            "city": towns["ar"] if variety in ("ary", "ar") else towns["fr"],
            "province": provinces["ar"] if variety in ("ary", "ar") else provinces["fr"],
            "needs": separator.join(flow.text(f"label_{n}", variety) for n in NEEDS),
        }

        def render(text_id: str, variety: Variety = variety,
                   values: dict[str, str] = values) -> str:
            return flow.text(text_id, variety).format_map(values)

        for text_id in flow.texts:
            messages.append((text_id, variety, render(text_id)))
        for node in flow.nodes.values():
            if node.ask is not None and node.ask.choices:
                buttons = tuple(ReplyButton(c.id, render(c.text)) for c in node.ask.choices)
                messages.append((f"{node.id} with its choices", variety,
                                 numbered_text(render(node.ask.text), buttons)))
        messages.append(("apology", variety, APOLOGY[variety]))
    return messages


@pytest.mark.parametrize(("what", "variety", "text"), _bot_messages(),
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_every_bot_message_fits_in_three_sms(what: str, variety: Variety, text: str) -> None:
    count = count_segments(text)
    assert count.segments <= MAX_SEGMENTS, (
        f"{what} [{variety}] needs {count.segments} SMS ({count.units} {count.encoding} "
        f"units): shorten it in config/flows/intake.yaml")
