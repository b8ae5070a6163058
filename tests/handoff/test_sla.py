"""SLA escalation: a pure decision with an injected clock, and the monitor over the
database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import select, update

from bot.handoff.routing import CenterPoint
from bot.handoff.sla import SlaPolicy, WaitingCase, deadline, decide
from bot.runtime import Runtime
from bot.storage.models import AuditEvent, Case, CaseEvent
from tests.web.test_api import make_case

T0 = datetime(2026, 3, 8, 9, 0, tzinfo=timezone.utc)
POLICY = SlaPolicy(urgent=timedelta(minutes=15), normal=timedelta(hours=4), center_hops=1)
CENTERS = [
    CenterPoint("near", 30.0, -9.0, frozenset({"legal"})),
    CenterPoint("next", 30.5, -9.0, frozenset({"legal"})),
    CenterPoint("far", 33.0, -7.0, frozenset({"legal"})),
    CenterPoint("shelter-only", 30.01, -9.0, frozenset({"shelter"})),
]


def waiting(**changes: object) -> WaitingCase:
    values: dict[str, object] = dict(reference="AM-AAAAAA", urgent=False, consent=True,
                                     center_id="near", queued_since=T0, lat=30.0, lon=-9.0,
                                     needs=("need_legal",))
    values.update(changes)
    return WaitingCase(**values)  # type: ignore[arg-type]


def test_nothing_happens_before_the_deadline() -> None:
    assert deadline(waiting(), POLICY) == T0 + timedelta(hours=4)
    assert decide(waiting(), POLICY, T0 + timedelta(hours=3, minutes=59), CENTERS) is None
    assert decide(waiting(urgent=True), POLICY, T0 + timedelta(minutes=14), CENTERS) is None


def test_urgent_after_15_minutes_to_the_next_nearest_center_offering_the_service() -> None:
    decision = decide(waiting(urgent=True), POLICY, T0 + timedelta(minutes=15), CENTERS)
    assert decision is not None
    assert (decision.from_center_id, decision.to_center_id) == ("near", "next")


def test_then_the_national_queue_and_nothing_after() -> None:
    second = waiting(center_id="next", escalations=1, tried=frozenset({"near"}))
    decision = decide(second, POLICY, T0 + timedelta(hours=5), CENTERS)
    assert decision is not None and decision.to_center_id is None
    assert decide(waiting(center_id=None), POLICY, T0 + timedelta(days=3), CENTERS) is None


def test_no_other_center_without_consent_unless_in_danger() -> None:
    late = T0 + timedelta(hours=5)
    no_consent = decide(waiting(consent=False), POLICY, late, CENTERS)
    assert no_consent is not None and no_consent.to_center_id is None
    danger = decide(waiting(consent=False, urgent=True), POLICY, late, CENTERS)
    assert danger is not None and danger.to_center_id == "next"


def test_unknown_town_or_no_other_center_goes_national() -> None:
    late = T0 + timedelta(hours=5)
    assert decide(waiting(lat=None, lon=None), POLICY, late, CENTERS).to_center_id is None  # type: ignore[union-attr]
    only = [CENTERS[0]]
    assert decide(waiting(), POLICY, late, only).to_center_id is None  # type: ignore[union-attr]


async def test_the_monitor_escalates_records_and_audits(client: httpx.AsyncClient,
                                                        runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.center_id == "sample-09581-emf"
        created = case.created_at.replace(tzinfo=case.created_at.tzinfo or timezone.utc)
    assert await runtime.sla.run_once(created + timedelta(hours=3)) == []
    first = await runtime.sla.run_once(created + timedelta(hours=4, minutes=1))
    assert [(e.reference, e.from_center_id) for e in first] == [(reference,
                                                                "sample-09581-emf")]
    second_center = first[0].to_center_id
    assert second_center not in (None, "sample-09581-emf")
    # The clock of the second center starts when it received the case.
    assert await runtime.sla.run_once(created + timedelta(hours=5)) == []
    async with runtime.sessionmaker() as db:
        await db.execute(update(CaseEvent).values(at=created + timedelta(hours=4)))
        await db.commit()
    second = await runtime.sla.run_once(created + timedelta(hours=8, minutes=1))
    assert [(e.from_center_id, e.to_center_id) for e in second] == [(second_center, None)]
    assert await runtime.sla.run_once(created + timedelta(days=2)) == []
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.center_id is None and case.status == "queued"
        moves = (await db.scalars(select(CaseEvent).order_by(CaseEvent.id))).all()
        assert [(m.kind, m.actor) for m in moves] == [("escalated", "sla")] * 2
        audited = (await db.scalars(select(AuditEvent.action).where(
            AuditEvent.case_reference == reference))).all()
    assert audited.count("case.escalated") == 2


async def test_a_claimed_case_is_never_escalated(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).where(Case.reference == reference)
                         .values(status="claimed"))
        await db.commit()
    assert await runtime.sla.run_once(datetime.now(timezone.utc) + timedelta(days=1)) == []
