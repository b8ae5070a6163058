"""The migration creates the schema on SQLite and PostgreSQL alike, and the
constraints that keep data whole hold on both."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bot.storage.database import create_engine, create_sessionmaker
from bot.storage.models import Case, Center, Contact, Message

EXPECTED_TABLES = {"centers", "accounts", "api_tokens", "contacts", "cases", "messages",
                   "audit_events", "alembic_version"}


async def test_migration_creates_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert EXPECTED_TABLES <= tables


async def test_provider_message_id_is_unique_per_channel_and_direction(database_url: str) -> None:
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as db:
            contact = Contact(channel="sms", address_hash="h" * 64, address_enc=b"x")
            db.add(contact)
            await db.flush()
            for direction in ("in", "out"):
                db.add(Message(contact_id=contact.id, channel="sms", direction=direction,
                               sender="her", provider_message_id="SM1", status="received"))
            db.add(Message(contact_id=contact.id, channel="whatsapp", direction="in",
                           sender="her", provider_message_id="SM1", status="received"))
            # Messages without a provider id never collide.
            for _ in range(2):
                db.add(Message(contact_id=contact.id, channel="simulator", direction="in",
                               sender="her", status="received"))
            await db.commit()
        async with maker() as db:
            db.add(Message(contact_id=1, channel="sms", direction="in", sender="her",
                           provider_message_id="SM1", status="received"))
            with pytest.raises(IntegrityError):
                await db.commit()
    finally:
        await engine.dispose()


async def test_case_reference_and_contact_are_unique(database_url: str) -> None:
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as db:
            db.add(Case(reference="AM-AAAAAA", channel="sms", language="fr"))
            db.add(Case(reference="AM-AAAAAA", channel="sms", language="fr"))
            with pytest.raises(IntegrityError):
                await db.commit()
        async with maker() as db:
            db.add(Contact(channel="sms", address_hash="a" * 64, address_enc=b"x"))
            db.add(Contact(channel="sms", address_hash="a" * 64, address_enc=b"y"))
            with pytest.raises(IntegrityError):
                await db.commit()
    finally:
        await engine.dispose()


async def test_json_columns_round_trip(database_url: str) -> None:
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as db:
            db.add(Center(id="c1", name="Exemple", kind="emf", city="Tiznit",
                          province_id="09.581", region_id="09", lat=29.7, lon=-9.7,
                          services=["listening", "legal"], is_sample=True))
            await db.commit()
        async with maker() as db:
            center = await db.scalar(select(Center).where(Center.id == "c1"))
            assert center is not None and center.services == ["listening", "legal"]
            assert center.created_at is not None
    finally:
        await engine.dispose()


async def test_the_migrations_build_exactly_the_schema_of_the_models(database_url: str) -> None:
    """A column added to a model without its migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    engine = create_engine(database_url)
    async with engine.connect() as conn:
        differences = await conn.run_sync(lambda sync: compare_metadata(
            MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata))
    await engine.dispose()
    assert differences == []
