"""Session checkpoints: the session before and after a message, chosen without asking
the database; the store that keeps them encrypted. No database."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.conversation.checkpoints import Checkpoint, CheckpointStore, session_from
from bot.crypto import Cipher
from bot.flows import engine
from bot.sessions import MemorySessionStore


def test_the_message_being_processed_again_gets_the_session_before_it() -> None:
    checkpoint = Checkpoint(applied=7, before={"node": "ask_safe"}, after={"node": "ask_city"})
    assert checkpoint.session_for(7) == {"node": "ask_safe"}  # its commit did not happen
    assert checkpoint.session_for(8) == {"node": "ask_city"}  # it was committed
    assert checkpoint.session_for(None) == {"node": "ask_city"}


def test_a_quick_exit_leaves_no_session_after_it() -> None:
    checkpoint = Checkpoint(applied=3, before={"node": "ask_need"}, after=None)
    assert checkpoint.session_for(4) is None


def test_round_trip_and_sessions_written_before_checkpoints() -> None:
    checkpoint = Checkpoint(applied=12, before=None, after={"language": "ary", "x": "é"})
    assert Checkpoint.decode(checkpoint.encode()) == checkpoint
    legacy = Checkpoint.decode('{"flow": "intake", "node": "ask_safe"}')
    assert legacy.session_for(1) == {"flow": "intake", "node": "ask_safe"}
    with pytest.raises(ValueError):
        Checkpoint.decode("[1, 2]")


# --- the store: encrypted, rewound, read whatever it holds ---------------------------

def _store() -> tuple[CheckpointStore, MemorySessionStore]:
    sessions = MemorySessionStore()
    return CheckpointStore(sessions, Cipher([Fernet.generate_key().decode()]),
                           ttl_seconds=60), sessions


async def test_a_checkpoint_is_stored_encrypted_and_read_back() -> None:
    store, sessions = _store()
    session = engine.Session(flow="intake", language="fr", slots={"story": "il me frappe"})
    await store.save("k", Checkpoint(applied=1, before=None, after=session.to_dict()))
    assert b"il me frappe" not in (await sessions.load("k") or b"")
    assert await store.current_session("k") == session


async def test_a_failed_message_rewinds_to_the_session_before_it_and_only_it() -> None:
    store, _ = _store()
    before = engine.Session(flow="intake", node="ask_safe")
    after = engine.Session(flow="intake", node="ask_consent")
    await store.save("k", Checkpoint(applied=5, before=before.to_dict(), after=after.to_dict()))
    await store.rewind("k", 6)  # not the message that made this checkpoint
    assert await store.current_session("k") == after
    await store.rewind("k", 5)
    assert await store.current_session("k") == before
    await store.forget("k")
    assert await store.current_session("k") is None


async def test_an_unreadable_checkpoint_starts_her_afresh() -> None:
    store, sessions = _store()
    await sessions.save("k", b"not a token", 60)
    assert await store.load("k") == Checkpoint()
    await store.save("k", Checkpoint(after={"no flow": True}))  # undecodable session
    assert await store.current_session("k") is None


def test_a_session_saved_before_its_case_link_had_a_name_still_finds_her_case() -> None:
    """Sessions in the store when this version starts (TTL 30 minutes) hold `host`."""
    old = {"flow": "intake", "node": None, "status": "active",
           "host": {"case_id": 12, "case_reference": "AM-ABC123", "acked": True}}
    assert session_from("k", old).case == engine.CaseLink(12, "AM-ABC123")  # type: ignore[union-attr]
    again = engine.Session.from_dict(engine.Session.from_dict(old).to_dict())
    assert again.case == engine.CaseLink(12, "AM-ABC123")
    assert engine.Session.from_dict({"flow": "intake"}).case == engine.CaseLink()
