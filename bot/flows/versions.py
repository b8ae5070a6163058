"""Flow versions kept in the database: admins save drafts, publish one, roll back.

The dialogue runs, for each flow, the version published last (`published_at`), or the
file in `config/flows/` when none was ever published. Each worker loads the published
versions at start and checks every `FLOW_REFRESH_SECONDS` whether another worker
published since (one cheap query); the worker that publishes swaps the flow at once.
Rolling back is publishing an older version again: rows are never rewritten except to
stamp their publication.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import audit
from bot.flows.loader import FlowError, parse_flow
from bot.flows.registry import FlowRegistry
from bot.flows.schema import Flow
from bot.storage.models import Account, FlowVersion

logger = logging.getLogger(__name__)

MAX_SOURCE = 512 * 1024


def content_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def validate(name: str, source: str) -> Flow:
    """Parse a draft of flow `name`; `FlowError` lists every problem by node and field."""
    if len(source) > MAX_SOURCE:
        raise FlowError([f"flow '{name}': longer than {MAX_SOURCE // 1024} KiB"])
    flow = parse_flow(source, name_hint=name)
    if flow.name != name:
        raise FlowError([f"flow '{name}' name: must stay '{name}' (found '{flow.name}')"])
    return flow


class FlowVersions:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], registry: FlowRegistry,
                 flows_dir: Path) -> None:
        self._sessionmaker = sessionmaker
        self._registry = registry
        self._flows_dir = flows_dir
        self._seen: tuple[int, datetime | None] | None = None

    # --- reading --------------------------------------------------------------------

    def file_source(self, name: str) -> str | None:
        path = self._flows_dir / f"{name}.yaml"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    async def versions(self, db: AsyncSession, name: str) -> Sequence[FlowVersion]:
        return (await db.scalars(select(FlowVersion).where(FlowVersion.flow_name == name)
                                 .order_by(FlowVersion.number.desc()))).all()

    async def published(self, db: AsyncSession, name: str) -> FlowVersion | None:
        return await db.scalar(select(FlowVersion).where(
            FlowVersion.flow_name == name, FlowVersion.published_at.is_not(None))
            .order_by(FlowVersion.published_at.desc(), FlowVersion.id.desc()).limit(1))

    async def get(self, db: AsyncSession, name: str, number: int) -> FlowVersion | None:
        return await db.scalar(select(FlowVersion).where(FlowVersion.flow_name == name,
                                                         FlowVersion.number == number))

    # --- writing --------------------------------------------------------------------

    async def save_draft(self, db: AsyncSession, account: Account, name: str, source: str,
                         note: str | None = None) -> FlowVersion:
        """Validate and store a new version (not yet running). Raises `FlowError`."""
        validate(name, source)
        number = int(await db.scalar(select(func.max(FlowVersion.number))
                                     .where(FlowVersion.flow_name == name)) or 0) + 1
        version = FlowVersion(flow_name=name, number=number, source=source,
                              content_hash=content_hash(source), created_by_id=account.id,
                              note=(note or "").strip()[:200] or None)
        db.add(version)
        await db.flush()
        audit.record(db, "flow.saved", account=account, flow=name, version=number)
        return version

    async def publish(self, db: AsyncSession, account: Account, name: str,
                      number: int) -> FlowVersion:
        """Make version `number` the one conversations run (also a rollback). The caller
        commits, then calls `activate`."""
        version = await self.get(db, name, number)
        if version is None:
            raise LookupError(f"flow '{name}' has no version {number}")
        validate(name, version.source)  # the schema may have moved on since it was saved
        previous = await self.published(db, name)
        version.published_at = datetime.now(timezone.utc)
        audit.record(db, "flow.published", account=account, flow=name, version=number,
                     previous=previous.number if previous is not None else None)
        return version

    def activate(self, version: FlowVersion) -> Flow:
        flow = validate(version.flow_name, version.source)
        self._registry.publish(flow)
        logger.info("flow '%s' version %d is live", version.flow_name, version.number)
        return flow

    # --- keeping workers in step -------------------------------------------------------

    async def refresh(self) -> bool:
        """Load versions published since the last look; True when something changed."""
        async with self._sessionmaker() as db:
            count, last = (await db.execute(
                select(func.count(FlowVersion.id), func.max(FlowVersion.published_at))
                .where(FlowVersion.published_at.is_not(None)))).one()
            marker: tuple[int, datetime | None] = (int(count or 0), last)
            if marker == self._seen:
                return False
            names = (await db.scalars(select(FlowVersion.flow_name).distinct().where(
                FlowVersion.published_at.is_not(None)))).all()
            latest = [await self.published(db, name) for name in names]
        for version in latest:
            if version is None:
                continue
            try:
                self.activate(version)
            except FlowError as exc:
                logger.error("flow '%s' version %d no longer validates; keeping the "
                             "previous one: %s", version.flow_name, version.number,
                             "; ".join(exc.problems[:3]))
        self._seen = marker
        return True

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("flow refresh failed; retrying")
