"""Re-encrypt every stored secret with the newest key (`run_bot.py keys rotate`).

Put the new key first in ENCRYPTION_KEYS, keep the old ones after it, run this, then
remove the old keys. Rows are processed in batches, each batch in its own transaction,
so a rotation can be interrupted and run again.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import Cipher
from bot.storage.models import ENCRYPTED_COLUMNS

logger = logging.getLogger(__name__)

BATCH = 500


async def rotate_keys(sessionmaker: async_sessionmaker[AsyncSession], cipher: Cipher,
                      batch: int = BATCH) -> dict[str, int]:
    """Returns how many values were re-encrypted, by table."""
    counts: dict[str, int] = {}
    for model, columns in ENCRYPTED_COLUMNS.items():
        table = model.__tablename__
        counts[table] = 0
        last_id = 0
        while True:
            async with sessionmaker() as db:
                rows = (await db.scalars(select(model).where(model.id > last_id)  # type: ignore[attr-defined]
                                         .order_by(model.id).limit(batch))).all()  # type: ignore[attr-defined]
                if not rows:
                    break
                for row in rows:
                    for column in columns:
                        value = getattr(row, column)
                        if value is not None:
                            setattr(row, column, cipher.rotate(value))
                            counts[table] += 1
                last_id = rows[-1].id  # type: ignore[attr-defined]
                await db.commit()
        logger.info("keys rotate: %s re-encrypted in %s", counts[table], table)
    return counts
