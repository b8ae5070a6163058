"""The simulator webhook (DESIGN.md "HTTP"): talk to Amane with curl."""

from __future__ import annotations

import logging
from datetime import timezone
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bot.channels.simulator import SENDER_PATTERN, SimulatorRequest
from bot.storage.models import Contact, Message
from bot.web.deps import DbDep, RuntimeDep
from bot.web.limits import check_ip, check_sender, slow_down_text

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks/simulator", tags=["simulator"])


@router.post("", summary="She writes; the replies come back in the answer",
             responses={429: {"description": "She wrote too much too fast: a polite text"}})
async def simulator_message(body: SimulatorRequest, runtime: RuntimeDep,
                            request: Request) -> Any:
    await check_ip(request, runtime)
    key = runtime.conversations.conversation_key("simulator", body.sender)
    verdict = await check_sender(runtime, key)
    if not verdict.allowed:
        variety = await runtime.conversations.variety_of("simulator", body.sender)
        text = slow_down_text(variety)
        return JSONResponse({"error": text, "replies": [{"text": text, "buttons": []}]},
                            status_code=429, headers={"Retry-After": str(verdict.retry_after)})
    result = await runtime.conversations.handle(body.to_inbound(), inline=True, key=key)
    return {"replies": [{"text": r.text, "buttons": [b.label for b in r.buttons]}
                        for r in result.replies]}


@router.get("/{sender}/outbox", summary="What was sent to her later (a counselor's reply)")
async def simulator_outbox(runtime: RuntimeDep, db: DbDep,
                           sender: str = Path(pattern=SENDER_PATTERN),
                           after: int = Query(0, ge=0)) -> dict[str, Any]:
    key = runtime.conversations.conversation_key("simulator", sender)
    contact = await db.scalar(select(Contact).where(Contact.channel == "simulator",
                                                    Contact.address_hash == key))
    if contact is None:
        return {"messages": []}
    rows = (await db.scalars(
        select(Message).where(Message.contact_id == contact.id, Message.direction == "out",
                              Message.status.in_(("sent", "delivered", "read")),
                              Message.id > after)
        .order_by(Message.id))).all()
    return {"messages": [{
        "id": m.id,
        "from": m.sender,
        "text": runtime.cipher.decrypt(m.body_enc) if m.body_enc is not None else "",
        "at": m.created_at.replace(tzinfo=m.created_at.tzinfo or timezone.utc).isoformat(),
    } for m in rows]}


def disabled_router() -> APIRouter:
    """Answers 404 with a reason when SIMULATOR_ENABLED=false."""
    off = APIRouter(prefix="/webhooks/simulator", include_in_schema=False)

    @off.api_route("", methods=["GET", "POST"])
    @off.api_route("/{rest:path}", methods=["GET", "POST"])
    async def _off() -> None:
        raise HTTPException(404, "the simulator is disabled (SIMULATOR_ENABLED=false)")

    return off
