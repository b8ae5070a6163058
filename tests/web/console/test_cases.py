"""The case page: safe contact first, reply through the outbox, notes, address, transfer,
close."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select, update

from bot.runtime import Runtime
from bot.storage.models import AuditEvent, CannedReply, Case, CaseEvent, CaseNote
from tests.support import Woman, add_account, console_login, csrf_of
from tests.web.test_api import make_case

TIZNIT = "sample-09581-emf"


async def _salma(client: httpx.AsyncClient, runtime: Runtime) -> str:
    await add_account(runtime, "salma", "counselor", TIZNIT)
    return await console_login(client, "salma")


async def _actions(runtime: Runtime, reference: str) -> list[str]:
    async with runtime.sessionmaker() as db:
        return [e.action for e in (await db.scalars(
            select(AuditEvent).where(AuditEvent.case_reference == reference)
            .order_by(AuditEvent.id))).all()]


async def test_safe_contact_comes_first_then_the_facts(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    await _salma(client, runtime)
    await client.get("/console/lang/fr?next=/console/")
    page = (await client.get(f"/console/cases/{reference}")).text
    order = [page.index(marker) for marker in (
        "La contacter sans danger", "Messages seulement", "Le matin", "Aide juridique",
        "Tiznit", "Conversation", 'name="text"')]
    assert order == sorted(order)
    # her address ("w1") is masked: not as a word of its own (a random CSRF token
    # may hold those two characters)
    assert re.search(r"(?<![\w-])w1(?![\w-])", page) is None
    assert "case.viewed" in await _actions(runtime, reference)


async def test_reply_reaches_her_outbox(client: httpx.AsyncClient, runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    csrf = await _salma(client, runtime)
    response = await client.post(f"/console/cases/{reference}/reply",
                                 data={"text": "Bonjour, je suis Salma.", "csrf_token": csrf})
    assert response.status_code == 303
    outbox = await Woman(client, "w1").outbox()
    assert [(m["from"], m["text"]) for m in outbox] == [
        ("bot", runtime.flows.get("intake").text("case_taken", "fr")),  # claimed by replying
        ("counselor", "Bonjour, je suis Salma.")]
    page = (await client.get(response.headers["location"])).text
    assert "Bonjour, je suis Salma." in page and "قيد المتابعة" in page  # claimed by replying


async def test_an_empty_reply_is_a_400_and_nothing_is_sent(client: httpx.AsyncClient,
                                                           runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    csrf = await _salma(client, runtime)
    response = await client.post(f"/console/cases/{reference}/reply",
                                 data={"text": "   ", "csrf_token": csrf})
    assert response.status_code == 400 and "text: empty" in response.text
    assert await Woman(client, "w1").outbox() == []


async def test_notes_are_encrypted_and_never_sent(client: httpx.AsyncClient,
                                                  runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    csrf = await _salma(client, runtime)
    response = await client.post(f"/console/cases/{reference}/notes",
                                 data={"text": "Appeler le centre de santé", "csrf_token": csrf})
    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    assert "Appeler le centre de santé" in page
    async with runtime.sessionmaker() as db:
        note = await db.scalar(select(CaseNote))
        assert note is not None and b"Appeler" not in note.body_enc
    assert await Woman(client, "w1").outbox() == []


async def test_showing_the_full_address_is_a_separate_audited_post(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    csrf = await _salma(client, runtime)
    assert "case.address_revealed" not in await _actions(runtime, reference)
    revealed = await client.post(f"/console/cases/{reference}/address",
                                 data={"csrf_token": csrf})
    assert revealed.status_code == 200 and '<strong class="revealed" dir="ltr">w1<' in revealed.text
    assert "case.address_revealed" in await _actions(runtime, reference)
    assert (await client.get(f"/console/cases/{reference}/address")).status_code == 405


async def test_close_with_an_outcome(client: httpx.AsyncClient, runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    csrf = await _salma(client, runtime)
    bad = await client.post(f"/console/cases/{reference}/close",
                            data={"outcome": "vanished", "csrf_token": csrf})
    assert bad.status_code == 400
    done = await client.post(f"/console/cases/{reference}/close",
                             data={"outcome": "unreachable", "csrf_token": csrf})
    assert done.status_code == 303
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and (case.status, case.outcome) == ("closed", "unreachable")
    page = (await client.get(f"/console/cases/{reference}")).text
    assert 'name="text" id="reply-text"' not in page  # no reply box on a closed case
    again = await client.post(f"/console/cases/{reference}/close",
                              data={"outcome": "other", "csrf_token": csrf})
    assert again.status_code == 409


async def test_transfer_searches_by_service_and_distance(client: httpx.AsyncClient,
                                                         runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    csrf = await _salma(client, runtime)
    page = (await client.get(f"/console/cases/{reference}?service=shelter")).text
    candidates = page[page.index('class="candidates"'):page.index('name="reason"')]
    distances = [float(part.split(" km")[0].rsplit("· ", 1)[1])
                 for part in candidates.split("</label>")[:-1]]
    assert distances and distances == sorted(distances)
    assert TIZNIT not in candidates  # not its own center
    target = candidates.split('value="', 1)[1].split('"', 1)[0]
    missing = await client.post(f"/console/cases/{reference}/transfer",
                                data={"center_id": target, "reason": " ", "csrf_token": csrf})
    assert missing.status_code == 400 and "reason" in missing.text
    moved = await client.post(f"/console/cases/{reference}/transfer", data={
        "center_id": target, "reason": "Elle a besoin d'un hébergement", "csrf_token": csrf})
    assert moved.status_code == 303 and moved.headers["location"] == "/console/queue"
    assert (await client.get(f"/console/cases/{reference}")).status_code == 404  # not hers now
    async with runtime.sessionmaker() as db:
        case = await db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.center_id == target and case.status == "queued"
        event = await db.scalar(select(CaseEvent))
        assert event is not None and event.reason_enc and b"hebergement" not in event.reason_enc
    assert "case.transferred" in await _actions(runtime, reference)


async def test_no_transfer_without_her_consent(client: httpx.AsyncClient,
                                               runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    async with runtime.sessionmaker() as db:
        await db.execute(update(Case).values(consent=False))
        await db.commit()
    csrf = await _salma(client, runtime)
    page = (await client.get(f"/console/cases/{reference}?service=legal")).text
    assert 'class="candidates"' not in page and "لم توافق" in page
    refused = await client.post(f"/console/cases/{reference}/transfer", data={
        "center_id": "sample-06141-emf", "reason": "x", "csrf_token": csrf})
    assert refused.status_code == 409


async def test_canned_replies_in_her_variety_first(client: httpx.AsyncClient,
                                                   runtime: Runtime) -> None:
    reference = await make_case(client, "w1", "Tiznit")
    async with runtime.sessionmaker() as db:
        db.add(CannedReply(title="Bonjour", texts={
            "ary": "السلام، أنا المستشارة", "ary_latn": "Salam, ana l mostachara",
            "ar": "مرحبا، أنا المستشارة", "fr": "Bonjour, je suis la conseillère"}))
        await db.commit()
    await _salma(client, runtime)
    page = (await client.get(f"/console/cases/{reference}")).text
    assert page.index("Bonjour, je suis la conseillère") < page.index("Salam, ana l mostachara")
    assert 'class="secondary use-canned"' in page


async def test_another_centers_case_is_not_found(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    casa = await make_case(client, "w1", "Casablanca")
    csrf = await _salma(client, runtime)
    assert (await client.get(f"/console/cases/{casa}")).status_code == 404
    for action, data in (("reply", {"text": "x"}), ("close", {"outcome": "other"}),
                         ("address", {}), ("notes", {"text": "x"})):
        response = await client.post(f"/console/cases/{casa}/{action}",
                                     data={**data, "csrf_token": csrf})
        assert response.status_code == 404, action
    assert csrf_of((await client.get("/console/queue")).text) == csrf
