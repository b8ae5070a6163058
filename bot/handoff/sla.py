"""Service levels: a case nobody claims in time moves on.

An urgent case unclaimed after `SLA_URGENT_MINUTES` (15), a normal one after
`SLA_NORMAL_MINUTES` (240), is escalated to the next-nearest center that offers what
she asked for (one she has not been sent to yet), `SLA_CENTER_HOPS` times (1), then
to the national queue, which admins watch. A case is only sent to another center with
her consent, or when she is in danger; otherwise it goes straight to the national
queue. An urgent case in the national queue is seen by the counselors of every center
(`bot.handoff.cases.UNROUTED_URGENT`); each time its deadline passes unclaimed, every
console is alerted again.

`decide` is pure (the clock is an argument); `SlaMonitor` reads the queues, applies
its decisions with a compare-and-set (two workers never escalate one case twice),
records them in the case history and the audit, and tells the consoles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import audit
from bot.crypto import Cipher
from bot.handoff.directory import CenterDirectory
from bot.handoff.history import moves_of, queued_since, record_move
from bot.handoff.routing import CenterPoint, route_to_nearest_center
from bot.nlu.result import Place
from bot.handoff.updates import UpdatesToHer
from bot.notify import CaseNotice, CaseNotifier, publish_after_commit
from bot.settings import Settings
from bot.storage.models import Case, CaseEvent

logger = logging.getLogger(__name__)


class PlaceIndex(Protocol):
    def by_id(self, place_id: str) -> Place | None: ...


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    urgent: timedelta
    normal: timedelta
    center_hops: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        return cls(urgent=timedelta(minutes=settings.sla_urgent_minutes),
                   normal=timedelta(minutes=settings.sla_normal_minutes),
                   center_hops=settings.sla_center_hops)


@dataclass(frozen=True, slots=True)
class WaitingCase:
    """What the SLA needs to know of a queued case."""

    reference: str
    urgent: bool
    consent: bool
    center_id: str | None
    queued_since: datetime
    escalations: int = 0
    tried: frozenset[str] = frozenset()  # centers that already had it
    lat: float | None = None  # her town
    lon: float | None = None
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Escalation:
    reference: str
    from_center_id: str | None
    to_center_id: str | None  # None: the national queue
    distance_km: float | None = None


def deadline(case: WaitingCase, policy: SlaPolicy) -> datetime:
    return case.queued_since + (policy.urgent if case.urgent else policy.normal)


def decide(case: WaitingCase, policy: SlaPolicy, now: datetime,
           centers: Iterable[CenterPoint]) -> Escalation | None:
    """Where the case goes now, or None if it stays. The national queue is the last
    stop: nothing escalates from it, but an urgent case there is announced to every
    console again (an escalation from the national queue to itself)."""
    if now < deadline(case, policy):
        return None
    if case.center_id is None:
        return Escalation(case.reference, None, None) if case.urgent else None
    may_share = case.consent or case.urgent
    if may_share and case.escalations < policy.center_hops and case.lat is not None \
            and case.lon is not None:
        routing = route_to_nearest_center(centers, case.lat, case.lon, case.needs,
                                          exclude=case.tried | {case.center_id})
        if routing is not None:
            return Escalation(case.reference, case.center_id, routing.center_id,
                              routing.distance_km)
    return Escalation(case.reference, case.center_id, None)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SlaMonitor:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession],
                 directory: CenterDirectory, places: PlaceIndex, cipher: Cipher,
                 notifier: CaseNotifier, policy: SlaPolicy, updates: UpdatesToHer,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self._sessionmaker = sessionmaker
        self._updates = updates
        self._directory = directory
        self._places = places
        self._cipher = cipher
        self._notifier = notifier
        self.policy = policy
        self._clock = clock

    def waiting_case(self, case: Case, moves: Sequence[CaseEvent]) -> WaitingCase:
        place = self._places.by_id(case.city_id) if case.city_id else None
        return WaitingCase(
            reference=case.reference, urgent=case.urgent, consent=case.consent,
            center_id=case.center_id, queued_since=queued_since(case, moves),
            escalations=sum(1 for m in moves if m.kind == "escalated"),
            tried=frozenset(m.from_center_id for m in moves if m.from_center_id),
            lat=place.lat if place else None, lon=place.lon if place else None,
            needs=tuple(case.needs))

    async def deadlines(self, db: AsyncSession, cases: Sequence[Case]
                        ) -> dict[str, datetime | None]:
        """When each queued case escalates (None: claimed, closed, or national)."""
        moves = await moves_of(db, [c.id for c in cases if c.status == "queued"])
        return {c.reference: (deadline(self.waiting_case(c, moves[c.id]), self.policy)
                              if c.status == "queued" and (c.center_id is not None or c.urgent)
                              else None)
                for c in cases}

    async def run_once(self, now: datetime | None = None) -> list[Escalation]:
        now = now or self._clock()
        centers = await self._directory.points()
        done: list[Escalation] = []
        async with self._sessionmaker() as db:
            queued = (await db.scalars(select(Case).where(
                Case.status == "queued", or_(Case.center_id.is_not(None), Case.urgent)))).all()
            moves = await moves_of(db, [c.id for c in queued])
            for case in queued:
                decision = decide(self.waiting_case(case, moves[case.id]), self.policy, now,
                                  centers)
                if decision is not None and await self._apply(db, case, decision, now):
                    done.append(decision)
            await db.commit()
        for decision in done:
            logger.info("case %s escalated from %s to %s", decision.reference,
                        decision.from_center_id, decision.to_center_id or "national queue")
        return done

    async def _apply(self, db: AsyncSession, case: Case, decision: Escalation,
                     now: datetime) -> bool:
        unchanged = [Case.id == case.id, Case.status == "queued",
                     Case.center_id.is_(None) if decision.from_center_id is None
                     else Case.center_id == decision.from_center_id]
        if decision.from_center_id is None:  # a reminder: once, whichever worker sees it
            unchanged.append(Case.updated_at == case.updated_at)
        result = await db.execute(
            update(Case).where(*unchanged)
            .values(center_id=decision.to_center_id, updated_at=now)
            .execution_options(synchronize_session=False))
        if not result.rowcount:  # type: ignore[attr-defined]
            return False  # claimed or moved meanwhile
        record_move(db, case, "escalated", to_center_id=decision.to_center_id,
                    cipher=self._cipher, at=now)
        audit.record(db, "case.escalated", actor="sla", case_reference=case.reference,
                     from_center_id=decision.from_center_id,
                     to_center_id=decision.to_center_id)
        publish_after_commit(db, self._notifier, [CaseNotice(
            "escalated", case.reference, (decision.from_center_id, decision.to_center_id),
            urgent=case.urgent)])
        if decision.to_center_id != decision.from_center_id:  # not a reminder
            self._updates.tell(db, case, "moved")
        return True

    async def run(self, interval: float) -> None:
        """Check the queues every `interval` seconds until cancelled."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("SLA pass failed; retrying")
            await asyncio.sleep(interval)
