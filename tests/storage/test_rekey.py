from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.crypto import Cipher, DecryptionError
from bot.runtime import Runtime
from bot.storage.models import Case, Contact, Message
from bot.storage.rekey import rotate_keys
from tests.support import Woman


async def test_rotation_re_encrypts_everything_with_the_newest_key(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await Woman(client).says_all("Bonjour", "oui", "oui", "avocat", "Tiznit", "1",
                                 "le matin", "il m'insulte")
    old_key = runtime.settings.encryption_keys
    new_key = Fernet.generate_key().decode()
    both = Cipher([new_key, old_key])
    counts = await rotate_keys(runtime.sessionmaker, both, batch=7)
    assert counts["messages"] > 10 and counts["contacts"] == 1 and counts["cases"] == 2
    only_new = Cipher([new_key])
    only_old = Cipher([old_key])
    async with runtime.sessionmaker() as db:
        contact = await db.scalar(select(Contact))
        case = await db.scalar(select(Case))
        bodies = [m.body_enc for m in (await db.scalars(select(Message))).all() if m.body_enc]
    assert contact is not None and case is not None
    assert only_new.decrypt(contact.address_enc) == "amina"
    assert only_new.decrypt(case.summary_enc) == "il m'insulte"  # type: ignore[arg-type]
    assert all(only_new.decrypt(b) for b in bodies)
    with pytest.raises(DecryptionError):
        only_old.decrypt(contact.address_enc)
