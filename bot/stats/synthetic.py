"""Plausible, invented cases written straight into the database: for the benchmark,
the screenshot and tests. Only the columns statistics read are filled; no contact, no
message, nothing encrypted. References start with `SY-` so they cannot be mistaken for
real ones (`AM-`)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.nlu.result import Place
from bot.storage.models import Case
from bot.types import CHANNELS, NEEDS, VIOLENCE_TYPES

REFERENCE_PREFIX: Final = "SY-"
_NEED_WEIGHTS: Final = (30, 25, 15, 10, 10, 10)
_VIOLENCE_WEIGHTS: Final = (3, 6, 30, 4, 15, 30, 12)
_CHANNEL_WEIGHTS: Final = {"whatsapp": 55, "sms": 20, "telegram": 20, "simulator": 4,
                           "terminal": 1}
_LANGUAGES: Final = (("ary", 45), ("ary_latn", 25), ("fr", 20), ("ar", 10))


def _reference(index: int) -> str:
    digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    text = ""
    while True:
        index, rest = divmod(index, len(digits))
        text = digits[rest] + text
        if index == 0:
            break
    return REFERENCE_PREFIX + text.rjust(7, "0")


def synthetic_cases(count: int, places: Sequence[Place], *, months: int = 24,
                    seed: int = 7, unknown_share: float = 0.06,
                    start_index: int = 0, now: datetime | None = None
                    ) -> Iterator[dict[str, Any]]:
    """`count` rows for the cases table: towns drawn by population (so big cities
    dominate and most rural communes see a handful), one or two needs, violence types,
    about 15% urgent, spread over the last `months` months."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    towns = [p for p in places if p.population > 0]
    weights = [p.population for p in towns]
    channels = list(_CHANNEL_WEIGHTS)
    channel_weights = [_CHANNEL_WEIGHTS[c] for c in channels]
    assert set(channels) == set(CHANNELS)
    span = timedelta(days=30.4 * months)
    for i in range(start_index, start_index + count):
        town = rng.choices(towns, weights)[0] if rng.random() >= unknown_share else None
        needs = sorted(set(rng.choices(NEEDS, _NEED_WEIGHTS, k=rng.choice((1, 1, 1, 2)))))
        if rng.random() < 0.05:
            needs = []
        violence = sorted(set(rng.choices(VIOLENCE_TYPES, _VIOLENCE_WEIGHTS,
                                          k=rng.choice((0, 1, 1, 2)))))
        created = now - span * rng.random() ** 0.8  # more recent cases than old ones
        yield {
            "reference": _reference(i), "channel": rng.choices(channels, channel_weights)[0],
            "language": rng.choices([v for v, _ in _LANGUAGES], [w for _, w in _LANGUAGES])[0],
            "needs": needs, "violence": violence, "urgent": rng.random() < 0.15,
            "city": town.name_fr if town else None, "city_id": town.id if town else None,
            "province_id": town.province_id if town else None,
            "region_id": town.region_id if town else None,
            "center_id": None, "status": rng.choice(("queued", "claimed", "closed")),
            "consent": True, "created_at": created, "updated_at": created,
        }


async def insert_cases(engine: AsyncEngine, rows: Iterator[dict[str, Any]],
                       batch: int = 5_000) -> int:
    """Bulk insert (multi-row INSERTs), one transaction per batch. Returns the count."""
    total = 0
    chunk: list[dict[str, Any]] = []
    async with engine.connect() as conn:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                await conn.execute(insert(Case), chunk)
                await conn.commit()
                total += len(chunk)
                chunk = []
        if chunk:
            await conn.execute(insert(Case), chunk)
            await conn.commit()
            total += len(chunk)
    return total
