"""`POST /model/parse`: Amane's NLU behind Rasa's HTTP interface (Rasa's response
shape, plus `language` and `urgent`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.nlu.commands import rasa_response
from bot.web.deps import RuntimeDep
from bot.web.limits import check_ip

router = APIRouter(tags=["NLU"])


class ParseRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Rasa clients may send message_id etc.
    text: str = Field(min_length=1, max_length=4096)


@router.post("/model/parse", summary="Read one message, as Rasa's /model/parse does")
async def model_parse(body: ParseRequest, runtime: RuntimeDep, request: Request
                      ) -> dict[str, Any]:
    await check_ip(request, runtime)
    return rasa_response(await runtime.nlu.parse(body.text))
