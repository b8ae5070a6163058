"""SQLAlchemy 2 models: the source of truth for centers, accounts, contacts, cases,
messages and audit events.

Columns ending in `_enc` hold Fernet tokens (see `bot.crypto`); they are encrypted and
decrypted by the services that own them, never here, so the cipher stays injected.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Times are stored in UTC and always read back timezone-aware, on SQLite (which
    keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Center(Base):
    __tablename__ = "centers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # emf | ngo | ... ; `sample` marks demo data
    city: Mapped[str] = mapped_column(String(120))
    province_id: Mapped[str] = mapped_column(String(16), index=True)
    region_id: Mapped[str] = mapped_column(String(4), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # counselor | admin | analyst
    center_id: Mapped[str | None] = mapped_column(
        ForeignKey("centers.id", ondelete="SET NULL"), default=None, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    center: Mapped[Center | None] = relationship(lazy="raise")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Contact(Base):
    """One address on one channel. The address is only ever stored encrypted; it is
    found by its keyed hash."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    # She sent STOP on SMS/WhatsApp: nothing is sent to her until she sends START.
    opted_out_at: Mapped[datetime | None] = mapped_column(default=None)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_center_status", "center_id", "status"),
        Index("ix_cases_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None, index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    violence: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str | None] = mapped_column(String(120), default=None)
    city_id: Mapped[str | None] = mapped_column(String(32), default=None)
    province_id: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    region_id: Mapped[str | None] = mapped_column(String(4), default=None, index=True)
    center_id: Mapped[str | None] = mapped_column(
        ForeignKey("centers.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    safe_contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    summary_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)  # told "received"
    reopened_at: Mapped[datetime | None] = mapped_column(default=None)  # she came back
    previous_case_id: Mapped[int | None] = mapped_column(  # her earlier case, if any
        ForeignKey("cases.id", ondelete="SET NULL"), default=None)

    center: Mapped[Center | None] = relationship(lazy="raise")


class Message(Base):
    """A message to or from her. Inbound rows are written before the webhook is
    acknowledged (the inbox); outbound rows are written before they are sent (the
    outbox)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "provider_message_id"),
        Index("ix_messages_case_id_id", "case_id", "id"),
        Index("ix_messages_conversation", "conversation_id"),
        Index("ix_messages_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), default=None, index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), default=None
    )
    conversation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    sender: Mapped[str] = mapped_column(String(16))  # her | bot | counselor
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text|media|location|...
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    provider_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # inbound: received -> processed | failed ;
    # outbound: pending -> sending -> sent -> delivered -> read, or failed | undelivered;
    # held: not sendable now (WhatsApp 24-hour window closed, or she sent STOP)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    """Append-only record of who did what. The application never updates or deletes
    these rows."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    actor: Mapped[str] = mapped_column(String(64))  # username, or "system" / "bot"
    action: Mapped[str] = mapped_column(String(64))
    case_reference: Mapped[str | None] = mapped_column(String(12), default=None, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- the console (issue 5) -----------------------------------------------------------


class ConsoleSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is
    stored, and logging out revokes the row."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseNote(Base):
    """A counselor's internal note on a case: encrypted, never sent to her."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEvent(Base):
    """A case's history of queues: transfers by a counselor, escalations by the SLA."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))  # transferred | escalated
    actor: Mapped[str] = mapped_column(String(64))  # username, or "sla"
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    from_center_id: Mapped[str | None] = mapped_column(String(64), default=None)
    to_center_id: Mapped[str | None] = mapped_column(String(64), default=None)  # None: national
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class CannedReply(Base):
    """A ready-made answer a counselor can start from, in the four varieties."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # variety -> text
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowVersion(Base):
    """A saved version of a flow's YAML. Conversations run the version published last;
    rows are never edited except to mark them published."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_name", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_name: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


# Every column that holds a Fernet token, by model: `run_bot.py keys rotate` re-encrypts
# them all, and the tests read them raw to check that no clear text is stored.
ENCRYPTED_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    Contact: ("address_enc",),
    Case: ("safe_contact_enc", "summary_enc"),
    Message: ("body_enc", "payload_enc"),
    CaseNote: ("body_enc",),
    CaseEvent: ("reason_enc",),
}
