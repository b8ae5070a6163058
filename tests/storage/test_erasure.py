"""Her contact goes when nothing of hers is left: the one rule, as every path uses it."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from bot.runtime import Runtime
from bot.storage.erasure import (
    forget_contact_if_nothing_left,
    forget_sent_farewell,
    nothing_of_hers_left,
)
from bot.storage.models import Case, Contact, Message


async def _her(runtime: Runtime, *, message: bool, case: bool) -> int:
    async with runtime.sessionmaker() as db:
        contact = Contact(channel="sms", address_hash=f"{message}{case}".ljust(64, "x"),
                          address_enc=runtime.cipher.encrypt("+212600000040"))
        db.add(contact)
        await db.flush()
        if message:
            db.add(Message(contact_id=contact.id, channel="sms", direction="out",
                           sender="bot", status="pending", kind="farewell"))
        if case:
            db.add(Case(reference=f"AM-T{int(message)}{int(case)}AAA", contact_id=contact.id,
                        channel="sms", language="fr"))
        await db.commit()
        return contact.id


async def _contacts(runtime: Runtime) -> set[int]:
    async with runtime.sessionmaker() as db:
        return set((await db.scalars(select(Contact.id))).all())


async def test_her_contact_stays_while_a_case_or_a_message_of_hers_does(
        runtime: Runtime) -> None:
    ids = {(m, c): await _her(runtime, message=m, case=c)
           for m in (False, True) for c in (False, True)}
    async with runtime.sessionmaker() as db:
        went = {key: await forget_contact_if_nothing_left(db, await db.get(Contact, i))  # type: ignore[arg-type]
                for key, i in ids.items()}
        await db.commit()
    assert went == {(False, False): True, (False, True): False, (True, False): False,
                    (True, True): False}
    assert await _contacts(runtime) == {i for key, i in ids.items() if key != (False, False)}


async def test_the_same_rule_as_one_statement_for_the_purge(runtime: Runtime) -> None:
    ids = {(m, c): await _her(runtime, message=m, case=c)
           for m in (False, True) for c in (False, True)}
    async with runtime.sessionmaker() as db:
        await db.execute(delete(Contact).where(nothing_of_hers_left(Contact.id)))
        await db.commit()
    assert await _contacts(runtime) == {i for key, i in ids.items() if key != (False, False)}


async def test_her_last_line_sent_takes_her_contact_with_it_when_nothing_else_is_left(
        runtime: Runtime) -> None:
    alone = await _her(runtime, message=True, case=False)
    with_case = await _her(runtime, message=True, case=True)
    async with runtime.sessionmaker() as db:
        for contact_id in (alone, with_case):
            contact = await db.get(Contact, contact_id)
            line = await db.scalar(select(Message).where(Message.contact_id == contact_id))
            assert contact is not None and line is not None
            await forget_sent_farewell(db, line, contact)
        await db.commit()
        assert await db.scalar(select(func.count()).select_from(Message)) == 0
    assert await _contacts(runtime) == {with_case}
