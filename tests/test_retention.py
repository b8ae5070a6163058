from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bot.retention import purge
from bot.runtime import Runtime
from bot.storage.models import Case, Contact, Message


async def test_purge(runtime: Runtime) -> None:
    now = datetime.now(timezone.utc)
    cipher = runtime.cipher
    async with runtime.sessionmaker() as db:
        old_contact = Contact(channel="sms", address_hash="a" * 64,
                              address_enc=cipher.encrypt("+212600000001"),
                              last_inbound_at=now - timedelta(days=120))
        recent_contact = Contact(channel="sms", address_hash="b" * 64,
                                 address_enc=cipher.encrypt("+212600000002"),
                                 last_inbound_at=now - timedelta(days=10))
        quitter = Contact(channel="sms", address_hash="c" * 64,
                          address_enc=cipher.encrypt("+212600000003"),
                          last_inbound_at=now - timedelta(days=3))
        db.add_all([old_contact, recent_contact, quitter])
        await db.flush()
        old = Case(reference="AM-AAAAAA", channel="sms", language="fr", status="closed",
                   closed_at=now - timedelta(days=91), contact_id=old_contact.id,
                   summary_enc=cipher.encrypt("words"), needs=["need_legal"],
                   province_id="09.581")
        recent = Case(reference="AM-CCCCCC", channel="sms", language="fr", status="closed",
                      closed_at=now - timedelta(days=10), contact_id=recent_contact.id)
        open_case = Case(reference="AM-DDDDDD", channel="sms", language="fr",
                         contact_id=recent_contact.id,
                         created_at=now - timedelta(days=400))
        db.add_all([old, recent, open_case])
        await db.flush()
        for case, contact in ((old, old_contact), (recent, recent_contact),
                              (open_case, recent_contact)):
            db.add(Message(contact_id=contact.id, case_id=case.id, channel="sms",
                           direction="in", sender="her", body_enc=cipher.encrypt("x"),
                           status="processed", created_at=now - timedelta(days=200)))
        # She stopped half-way three days ago: no case, her words must not stay.
        db.add(Message(contact_id=quitter.id, channel="sms", direction="in", sender="her",
                       body_enc=cipher.encrypt("y"), status="processed",
                       created_at=now - timedelta(days=3)))
        await db.commit()

    async with runtime.sessionmaker() as db:
        report = await purge(db, retention_days=90, now=now)
        await db.commit()
    assert (report.cases, report.messages, report.abandoned_messages, report.contacts) == (
        1, 1, 1, 2)
    async with runtime.sessionmaker() as db:
        left = {(m.case_id) for m in (await db.scalars(select(Message))).all()}
        assert left == {recent.id, open_case.id}
        purged = await db.get(Case, old.id)
        assert purged is not None and purged.contact_id is None and purged.summary_enc is None
        assert purged.needs == ["need_legal"] and purged.province_id == "09.581"
        contacts = (await db.scalars(select(Contact.address_hash))).all()
        assert contacts == ["b" * 64]
    # Running it again changes nothing.
    async with runtime.sessionmaker() as db:
        again = await purge(db, retention_days=90, now=now)
        await db.commit()
        assert (again.cases, again.messages, again.abandoned_messages, again.contacts) == (
            0, 0, 0, 0)
        assert await db.scalar(select(func.count()).select_from(Message)) == 2
