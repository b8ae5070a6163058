"""The Telegram and Twilio webhooks (DESIGN.md "HTTP"): authenticate (403), parse
(400), store her message (the inbox), acknowledge (200); process it after the answer.

Status codes, and why:
- 200: stored (or a redelivery of a message already stored, or an update Amane does not
  use): the provider must not send it again.
- 400: not what the provider sends (the reason says which field): nothing is stored.
- 403: the signature (Twilio) or the secret token (Telegram) is wrong or missing, or
  cannot be checked (PUBLIC_BASE_URL not set): nothing is read further.
- 404: the channel is off (its settings are absent).
- 5xx: her message could not be stored (database down): the provider sends it again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from bot.channels import telegram, twilio
from bot.conversation.receive import accept, accept_telegram, after_ack
from bot.runtime import Runtime
from bot.web.deps import RuntimeDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["channels"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post("/telegram", summary="A Telegram Update (secret-token header required)")
async def telegram_webhook(request: Request, background: BackgroundTasks,
                           runtime: RuntimeDep) -> dict[str, object]:
    channel = runtime.channels.telegram
    if channel is None:
        raise HTTPException(404, "the Telegram channel is off (TELEGRAM_BOT_TOKEN is not set)")
    if not channel.authentic(request.headers.get(telegram.SECRET_HEADER)):
        raise HTTPException(403, f"wrong or missing {telegram.SECRET_HEADER}")
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "body: malformed JSON") from None
    try:
        update = telegram.decode_update(data, channel.bot)
    except telegram.MalformedUpdate as exc:
        raise HTTPException(400, str(exc)) from None
    reception = runtime.reception
    accepted = await accept_telegram(reception, update)
    background.add_task(after_ack, reception, accepted)
    return accepted.summary()


async def _signed_form(request: Request, runtime: Runtime) -> FormData:
    settings = runtime.settings
    if runtime.channels.twilio is None:
        raise HTTPException(404, "the SMS and WhatsApp channels are off (Twilio settings "
                            "are not set)")
    if not settings.public_base_url:
        raise HTTPException(403, "signatures cannot be checked: PUBLIC_BASE_URL is not set")
    signature = request.headers.get(twilio.SIGNATURE_HEADER)
    if not signature:
        raise HTTPException(403, f"missing {twilio.SIGNATURE_HEADER}")
    form = await request.form()  # Starlette answers 400 for a broken multipart body
    url = settings.public_base_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not twilio.signature_valid(settings.twilio_auth_token, url, form, signature):
        raise HTTPException(403, f"wrong {twilio.SIGNATURE_HEADER}")
    return form  # type: ignore[return-value]


def _params(form: FormData) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise HTTPException(400, f"{key}: files are not expected")
        params.setdefault(key, value)
    return params


@router.post("/twilio", summary="An SMS or WhatsApp message, as Twilio sends it (signed)")
async def twilio_webhook(request: Request, background: BackgroundTasks,
                         runtime: RuntimeDep) -> Response:
    form = await _signed_form(request, runtime)
    try:
        inbound = twilio.read_message(_params(form))
    except twilio.MalformedRequest as exc:
        raise HTTPException(400, str(exc)) from None
    reception = runtime.reception
    background.add_task(after_ack, reception, await accept(reception, inbound))
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/twilio/status", summary="Twilio's delivery report for a message we sent")
async def twilio_status(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    form = await _signed_form(request, runtime)
    try:
        report = twilio.read_status(_params(form))
    except twilio.MalformedRequest as exc:
        raise HTTPException(400, str(exc)) from None
    hint = request.query_params.get("message", "")
    updated = await runtime.outbox.record_delivery(
        ("sms", "whatsapp"), report.message_sid, report.status, report.error_code,
        message_id=int(hint) if hint.isdigit() else None)
    return {"ok": True, "updated": updated}
