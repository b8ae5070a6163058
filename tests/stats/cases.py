"""Cases written straight into a test database, as the intake would leave them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.nlu.places import load_gazetteer
from bot.storage.models import Case

_count = 0


def case(city_id: str | None = None, *, needs: tuple[str, ...] = ("need_legal",),
         violence: tuple[str, ...] = (), urgent: bool = False, channel: str = "whatsapp",
         language: str = "ary", month: str = "2026-03", day: int = 10) -> dict[str, Any]:
    """One case row; `city_id` is a code from cities.csv (None: town unknown)."""
    global _count
    _count += 1
    place = load_gazetteer().by_id(city_id) if city_id else None
    if city_id and place is None:
        raise ValueError(f"no town {city_id}")
    created = datetime(int(month[:4]), int(month[5:7]), day, 12, tzinfo=timezone.utc)
    return {
        "reference": f"TS-{_count:07d}", "channel": channel, "language": language,
        "needs": list(needs), "violence": list(violence), "urgent": urgent,
        "city": place.name_fr if place else None, "city_id": place.id if place else None,
        "province_id": place.province_id if place else None,
        "region_id": place.region_id if place else None, "status": "queued",
        "consent": True, "created_at": created, "updated_at": created,
    }


async def add(engine: AsyncEngine, *rows: dict[str, Any] | list[dict[str, Any]]) -> None:
    flat: list[dict[str, Any]] = []
    for row in rows:
        flat.extend(row if isinstance(row, list) else [row])
    async with engine.begin() as conn:
        await conn.execute(insert(Case), flat)
