"""FastAPI dependencies: the runtime, a database session, the authenticated account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import account_for_token
from bot.runtime import Runtime
from bot.storage.models import Account

_bearer = HTTPBearer(auto_error=False)


async def get_runtime(request: Request) -> Runtime:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a
    # hand-off to another thread and back on every request that asks for the runtime.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_db(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker() as session:
        yield session


DbDep = Annotated[AsyncSession, Depends(get_db)]


async def get_account(db: DbDep, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                        Depends(_bearer)]) -> Account:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    account = await account_for_token(db, credentials.credentials)
    if account is None:
        raise HTTPException(401, "invalid or expired token",
                            headers={"WWW-Authenticate": "Bearer"})
    return account


AccountDep = Annotated[Account, Depends(get_account)]
