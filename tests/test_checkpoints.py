"""Session checkpoints: the session before and after a message, chosen without asking
the database."""

from __future__ import annotations

import pytest

from bot.checkpoints import Checkpoint


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
