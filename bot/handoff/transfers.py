"""Transferring a case to another center: the console and the API both come here.

A counselor searches the centers that offer a service, nearest her town first (the
same ranking as routing), picks one and gives a reason. A transfer shares her request
with another center, so it is allowed only with her consent. The case goes back to the
new center's queue, unclaimed; the history keeps the move and its reason (encrypted),
the audit keeps who did it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.crypto import Cipher
from bot.handoff.cases import CaseConflict, CaseService
from bot.handoff.history import record_move
from bot.handoff.routing import CenterPoint, great_circle_km, rank_centers
from bot.handoff.sla import PlaceIndex
from bot.handoff.updates import UpdatesToHer
from bot.storage.models import Account, Case, Center
from bot.types import SERVICE_FOR_NEED, SERVICES

logger = logging.getLogger(__name__)

MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class TransferCandidate:
    center: Center
    distance_km: float | None  # from her town; None when her town is unknown


class TransferService:
    def __init__(self, cases: CaseService, places: PlaceIndex, cipher: Cipher,
                 updates: UpdatesToHer) -> None:
        self._cases = cases
        self._places = places
        self._cipher = cipher
        self._updates = updates

    def origin(self, case: Case) -> tuple[float, float] | None:
        place = self._places.by_id(case.city_id) if case.city_id else None
        return (place.lat, place.lon) if place is not None else None

    async def candidates(self, db: AsyncSession, case: Case, service: str | None,
                         *, limit: int = 20) -> list[TransferCandidate]:
        """Active centers offering `service` (default: those answering her needs),
        nearest her town first; the case's own center is left out."""
        if service is not None and service not in SERVICES:
            raise ValueError(f"service: must be one of {', '.join(SERVICES)}")
        needs = ([n for n, s in SERVICE_FOR_NEED.items() if s == service] if service
                 else list(case.needs))
        centers = {c.id: c for c in (await db.scalars(
            select(Center).where(Center.active.is_(True)))).all()}
        points = [CenterPoint(c.id, c.lat, c.lon, frozenset(c.services)) for c in
                  centers.values()]
        exclude = {case.center_id} if case.center_id else set()
        origin = self.origin(case)
        if origin is not None:
            ranked = rank_centers(points, origin[0], origin[1], needs, exclude=exclude)
            return [TransferCandidate(centers[r.center_id], r.distance_km)
                    for r in ranked[:limit]]
        wanted = {SERVICE_FOR_NEED[n] for n in needs if n in SERVICE_FOR_NEED} or {"listening"}
        found = sorted((c for c in centers.values()
                        if c.id not in exclude and wanted & set(c.services)),
                       key=lambda c: (c.city, c.name))
        return [TransferCandidate(c, None) for c in found[:limit]]

    async def transfer(self, db: AsyncSession, account: Account, reference: str,
                       center_id: str, reason: str) -> Case:
        reason = reason.strip()
        if not reason:
            raise ValueError("reason: empty (say why the case moves)")
        if len(reason) > MAX_REASON:
            raise ValueError(f"reason: longer than {MAX_REASON} characters")
        case = await self._cases.get_visible(db, account, reference, for_update=True)
        if case.status == "closed":
            raise CaseConflict(f"case {case.reference} is closed")
        if not case.consent:
            raise CaseConflict(f"case {case.reference}: she has not agreed that her request "
                               "be shared with a center, so it cannot be transferred")
        target = await db.get(Center, center_id)
        if target is None or not target.active:
            raise ValueError(f"center_id: no active center '{center_id}'")
        if target.id == case.center_id:
            raise CaseConflict(f"case {case.reference} is already at center {center_id}")
        before = case.center_id
        now = datetime.now(timezone.utc)
        record_move(db, case, "transferred", to_center_id=target.id, cipher=self._cipher,
                    account=account, reason=reason, at=now)
        case.center_id = target.id
        case.status, case.claimed_by_id, case.claimed_at, case.updated_at = (
            "queued", None, None, now)
        origin = self.origin(case)
        audit.record(db, "case.transferred", account=account, case_reference=case.reference,
                     from_center_id=before, to_center_id=target.id,
                     distance_km=None if origin is None else round(
                         great_circle_km(origin[0], origin[1], target.lat, target.lon), 1))
        self._cases.notify(db, case, "transferred", before)
        self._updates.tell(db, case, "moved")
        logger.info("case %s transferred from %s to %s", case.reference, before or "national",
                    target.id)
        return case
