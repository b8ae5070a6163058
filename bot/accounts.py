"""Accounts of counselors, admins and analysts: argon2 password hashes, lockout after
repeated failures, and opaque API tokens stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Account, ApiToken, Center
from bot.types import ROLES

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# A real hash to verify against when the username is unknown, so that timing does not
# tell which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LoginResult:
    account: Account | None
    reason: str | None = None  # "invalid" | "locked" | "inactive"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")


async def create_account(session: AsyncSession, *, username: str, password: str, role: str,
                         center_id: str | None = None) -> Account:
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError("username: 1 to 64 characters")
    if role not in ROLES:
        raise AccountError(f"role: must be one of {', '.join(ROLES)}")
    check_password_policy(password)
    if role == "counselor" and not center_id:
        raise AccountError("center: a counselor belongs to a center (--center ID)")
    if center_id is not None and await session.get(Center, center_id) is None:
        raise AccountError(f"center: unknown center '{center_id}'")
    if await session.scalar(select(Account).where(Account.username == username)) is not None:
        raise AccountError(f"username: '{username}' already exists")
    account = Account(username=username, password_hash=hash_password(password), role=role,
                      center_id=center_id)
    session.add(account)
    await session.flush()
    return account


async def authenticate(session: AsyncSession, username: str, password: str,
                       now: datetime | None = None) -> LoginResult:
    now = now or datetime.now(timezone.utc)
    account = await session.scalar(select(Account).where(Account.username == username))
    if account is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return LoginResult(None, "invalid")
    locked_until = account.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=timezone.utc)
    if locked_until is not None and locked_until > now:
        return LoginResult(None, "locked")
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCKOUT
            account.failed_logins = 0
        return LoginResult(None, "invalid")
    if not account.active:
        return LoginResult(None, "inactive")
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return LoginResult(account)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_token(session: AsyncSession, account: Account, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=_token_hash(token), account_id=account.id,
                         expires_at=datetime.now(timezone.utc) + ttl))
    return token


async def account_for_token(session: AsyncSession, token: str) -> Account | None:
    if not token or len(token) > 200:
        return None
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked:
        return None
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(
        tzinfo=timezone.utc)
    if expires_at <= datetime.now(timezone.utc):
        return None
    account = await session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return account


async def revoke_token(session: AsyncSession, token: str) -> None:
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is not None:
        row.revoked = True
