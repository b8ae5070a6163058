"""Counselor API v1: the console uses it too. A counselor sees only her center's
cases (another center's case answers 404); an admin sees all; an analyst sees none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from bot import audit
from bot.accounts import authenticate, issue_token
from bot.handoff.cases import OUTCOMES, CaseConflict, CaseForbidden, CaseNotFound
from bot.storage.models import Case
from bot.web.deps import AccountDep, DbDep, RuntimeDep
from bot.web.limits import check_ip


@contextmanager
def case_errors(reference: str) -> Iterator[None]:
    """What the case service refuses, as HTTP: unknown or not hers 404 (never 403, so a
    reference from another center says nothing), wrong state 409, bad value 400."""
    try:
        yield
    except CaseNotFound:
        raise HTTPException(404, f"no case {reference}") from None
    except CaseConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


async def _ip_limit(request: Request, runtime: RuntimeDep) -> None:
    await check_ip(request, runtime)


router = APIRouter(prefix="/api/v1", tags=["counselor API"], dependencies=[Depends(_ip_limit)])

ReferencePath = Annotated[str, Path(min_length=3, max_length=16, pattern=r"^[A-Za-z0-9-]+$",
                                    description="Case reference, e.g. AM-K7XR3P")]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class MessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4096)


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    center_id: str = Field(min_length=1, max_length=64, description="The center that takes it")
    reason: str = Field(min_length=1, max_length=500, description="Why it moves (kept encrypted)")


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["service_given", "referred", "unreachable", "withdrew", "duplicate",
                     "other"] = Field(description="How the case ends: " + ", ".join(OUTCOMES))


def _waiting_minutes(case: Case) -> int:
    return max(0, int((datetime.now(timezone.utc) - case.created_at).total_seconds() // 60))


@router.post("/auth/token", response_model=TokenResponse, summary="Log in, get a bearer token")
async def token(body: TokenRequest, runtime: RuntimeDep, db: DbDep,
                request: Request) -> TokenResponse:
    await check_ip(request, runtime, scope="login",
                   per_minute=runtime.settings.rate_limit_login_per_minute)
    result = await authenticate(db, body.username, body.password)
    if result.account is None:
        await db.commit()  # keep the failed-login count
        raise HTTPException(401, "invalid username or password, or account locked")
    ttl = timedelta(seconds=runtime.settings.api_token_ttl_seconds)
    value = await issue_token(db, result.account, ttl)
    audit.record(db, "auth.token", account=result.account)
    await db.commit()
    return TokenResponse(access_token=value, expires_in=int(ttl.total_seconds()),
                         role=result.account.role)


@router.get("/me", summary="Who I am")
async def me(account: AccountDep) -> dict[str, Any]:
    return {"username": account.username, "role": account.role, "center_id": account.center_id}


@router.get("/cases", summary="Cases of my center (all for an admin), urgent first then oldest")
async def list_cases(runtime: RuntimeDep, db: DbDep, account: AccountDep,
                     status: Literal["queued", "claimed", "closed"] | None = Query(None)
                     ) -> dict[str, Any]:
    try:
        cases = await runtime.cases.list_cases(db, account, status=status)
    except CaseForbidden as exc:
        raise HTTPException(403, str(exc))
    return {"cases": [{
        "reference": c.reference, "status": c.status, "urgent": c.urgent,
        "needs": list(c.needs), "city": c.city, "center_id": c.center_id,
        "created_at": c.created_at, "waiting_minutes": _waiting_minutes(c),
    } for c in cases]}


@router.get("/cases/{reference}", summary="One case, with her safe-contact preference first")
async def show_case(reference: ReferencePath, runtime: RuntimeDep, db: DbDep,
                    account: AccountDep) -> dict[str, Any]:
    with case_errors(reference):
        case = await runtime.cases.get_visible(db, account, reference)
    view = await runtime.cases.view(db, account, case)
    audit.record(db, "case.viewed", account=account, case_reference=case.reference)
    await db.commit()
    return view


@router.post("/cases/{reference}/claim", summary="Take the case")
async def claim_case(reference: ReferencePath, runtime: RuntimeDep, db: DbDep,
                     account: AccountDep) -> dict[str, Any]:
    with case_errors(reference):
        case = await runtime.cases.claim(db, account, reference)
    await db.commit()
    return {"reference": case.reference, "status": case.status}


@router.post("/cases/{reference}/messages", status_code=201,
             summary="Write to her; delivered on the channel she used")
async def send_message(reference: ReferencePath, body: MessageRequest, runtime: RuntimeDep,
                       db: DbDep, account: AccountDep) -> dict[str, Any]:
    with case_errors(reference):
        message = await runtime.cases.send_to_her(db, account, reference, body.text)
    await db.commit()
    await runtime.outbox.deliver([message.id])
    await db.refresh(message)
    return {"id": message.id, "status": message.status}


@router.post("/cases/{reference}/close", summary="Close the case with an outcome")
async def close_case(reference: ReferencePath, body: CloseRequest, runtime: RuntimeDep,
                     db: DbDep, account: AccountDep) -> dict[str, Any]:
    with case_errors(reference):
        case = await runtime.cases.close(db, account, reference, body.outcome)
    await db.commit()
    return {"reference": case.reference, "status": case.status, "outcome": case.outcome}


@router.post("/cases/{reference}/transfer",
             summary="Transfer the case to another center (only with her consent)")
async def transfer_case(reference: ReferencePath, body: TransferRequest, runtime: RuntimeDep,
                        db: DbDep, account: AccountDep) -> dict[str, Any]:
    with case_errors(reference):
        case = await runtime.transfers.transfer(db, account, reference, body.center_id,
                                                body.reason)
    await db.commit()
    return {"reference": case.reference, "status": case.status, "center_id": case.center_id}
