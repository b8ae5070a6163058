"""`POST /model/parse`: Rasa's response shape, plus `language` and `urgent`."""

from __future__ import annotations

import httpx


async def test_rasa_shape_with_language_and_urgent(client: httpx.AsyncClient) -> None:
    response = await client.post("/model/parse",
                                 json={"text": "salam, bghit mo7amiya ana f tiznit"})
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "salam, bghit mo7amiya ana f tiznit"
    assert body["intent"]["name"] == "need_legal"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0]["name"] == "need_legal"
    assert body["language"] == "ary_latn" and body["urgent"] is False
    [city] = [e for e in body["entities"] if e["entity"] == "city"]
    assert city["value"] == "Tiznit"


async def test_danger_is_flagged(client: httpx.AsyncClient) -> None:
    body = (await client.post("/model/parse",
                              json={"text": "عتقوني راجلي بغا يقتلني"})).json()
    assert body["urgent"] is True and body["language"] in ("ary", "ar")


async def test_bad_requests(client: httpx.AsyncClient) -> None:
    assert (await client.post("/model/parse", json={"text": ""})).status_code == 400
    assert (await client.post("/model/parse", json={"text": "x" * 4097})).status_code == 400
    assert (await client.post("/model/parse", json={})).status_code == 400
    # Rasa clients may send more fields: they are ignored.
    extra = await client.post("/model/parse", json={"text": "salam", "message_id": "1"})
    assert extra.status_code == 200 and extra.json()["intent"]["name"] == "greet"
