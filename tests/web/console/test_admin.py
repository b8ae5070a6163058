"""Admin pages: flows (edit, try, publish, roll back), centers, accounts, canned replies,
intent examples, audit."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import Account, AuditEvent, CannedReply, Center, FlowVersion, Message
from tests.support import PASSWORD, Woman, add_account, console_login, csrf_of

OLD_GREETING = "Bonjour. Ici, vous pouvez écrire en toute confidentialité."
NEW_GREETING = ("Bonjour, bienvenue. Vous pouvez écrire ici en toute confidentialité. "
                "Pour arrêter, écrivez STOP.")


async def _boss(client: httpx.AsyncClient, runtime: Runtime) -> str:
    await add_account(runtime, "boss", "admin")
    return await console_login(client, "boss")


def _edited_intake(runtime: Runtime) -> str:
    source = (runtime.settings.flows_dir / "intake.yaml").read_text(encoding="utf-8")
    old_line = next(line for line in source.splitlines()
                    if line.strip().startswith("fr: \"Bonjour. Ici"))
    return source.replace(old_line, f'    fr: "{NEW_GREETING}"')


async def _actions(runtime: Runtime) -> list[str]:
    async with runtime.sessionmaker() as db:
        return list((await db.scalars(select(AuditEvent.action)
                                      .order_by(AuditEvent.id))).all())


async def test_edit_try_publish_then_the_next_conversation_uses_it(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    csrf = await _boss(client, runtime)
    editor = await client.get("/console/admin/flows/intake")
    assert editor.status_code == 200 and "quick_exit_words" in editor.text
    source = _edited_intake(runtime)

    tried = await client.post("/console/admin/flows/intake/try", data={
        "source": source, "messages": "bonjour\noui", "csrf_token": csrf})
    assert tried.status_code == 200 and NEW_GREETING in tried.text
    async with runtime.sessionmaker() as db:  # trying writes nothing
        assert (await db.scalars(select(Message))).all() == []
        assert (await db.scalars(select(FlowVersion))).all() == []
    first = await Woman(client, "before").says("bonjour")
    assert first[0]["text"].startswith(OLD_GREETING)

    saved = await client.post("/console/admin/flows/intake/save", data={
        "source": source, "note": "warmer greeting", "csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?version=1")
    still_old = await Woman(client, "draft").says("bonjour")
    assert still_old[0]["text"].startswith(OLD_GREETING)  # a draft is not live

    published = await client.post("/console/admin/flows/intake/publish",
                                  data={"number": "1", "csrf_token": csrf})
    assert published.status_code == 303
    replies = await Woman(client, "after").says("bonjour")
    assert replies[0]["text"] == NEW_GREETING
    assert ["flow.saved", "flow.published"] == [a for a in await _actions(runtime)
                                                if a.startswith("flow.")]


async def test_errors_are_shown_by_node_and_field_and_nothing_is_saved(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    csrf = await _boss(client, runtime)
    source = (runtime.settings.flows_dir / "intake.yaml").read_text(encoding="utf-8")
    broken = source.replace("        goto: ask_consent", "        goto: ask_consnet", 1)
    for action in ("save", "try"):
        response = await client.post(f"/console/admin/flows/intake/{action}", data={
            "source": broken, "messages": "bonjour", "csrf_token": csrf})
        assert response.status_code == 400
        assert ("flow 'intake' node 'ask_safe' routes[0].goto: unknown node "
                "'ask_consnet'") in response.text.replace("&#39;", "'")
    bad_yaml = await client.post("/console/admin/flows/intake/save", data={
        "source": "nodes: [", "csrf_token": csrf})
    assert bad_yaml.status_code == 400 and "not valid YAML" in bad_yaml.text
    async with runtime.sessionmaker() as db:
        assert (await db.scalars(select(FlowVersion))).all() == []


async def test_rollback_and_other_workers_follow(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    from bot.runtime import build_runtime

    csrf = await _boss(client, runtime)
    original = (runtime.settings.flows_dir / "intake.yaml").read_text(encoding="utf-8")
    for source in (original, _edited_intake(runtime)):
        await client.post("/console/admin/flows/intake/save",
                          data={"source": source, "csrf_token": csrf})
    other = build_runtime(runtime.settings)  # another worker
    try:
        await other.flow_versions.refresh()
        await client.post("/console/admin/flows/intake/publish",
                          data={"number": "2", "csrf_token": csrf})
        assert await other.flow_versions.refresh() is True
        assert other.flows.get("intake").text("greeting", "fr") == NEW_GREETING
        await client.post("/console/admin/flows/intake/publish",
                          data={"number": "1", "csrf_token": csrf})
        page = (await client.get("/console/admin/flows/intake")).text
        assert "الرجوع إلى هذه النسخة" in page  # version 2 can be brought back
        await other.flow_versions.refresh()
        assert other.flows.get("intake").text("greeting", "fr").startswith(OLD_GREETING)
        assert runtime.flows.get("intake").text("greeting", "fr").startswith(OLD_GREETING)
        assert await other.flow_versions.refresh() is False  # nothing new
    finally:
        await other.close()
    missing = await client.post("/console/admin/flows/intake/publish",
                                data={"number": "9", "csrf_token": csrf})
    assert missing.status_code == 404


async def test_centers_edit_deactivate_export_import(client: httpx.AsyncClient,
                                                     runtime: Runtime) -> None:
    csrf = await _boss(client, runtime)
    center_id = "sample-09581-emf"
    bad = await client.post(f"/console/admin/centers/{center_id}", data={
        "name": "", "kind": "emf", "city": "Tiznit", "lat": "91", "lon": "x",
        "services": "legal", "csrf_token": csrf})
    assert bad.status_code == 400 and "lat/lon: not numbers" in bad.text
    good = await client.post(f"/console/admin/centers/{center_id}", data={
        "name": "EMF Tiznit", "kind": "emf", "city": "Tiznit", "lat": "29.7", "lon": "-9.73",
        "services": ["legal", "listening"], "active": "on", "csrf_token": csrf})
    assert good.status_code == 303
    off = await client.post(f"/console/admin/centers/{center_id}/active",
                            data={"active": "off", "csrf_token": csrf})
    assert off.status_code == 303
    async with runtime.sessionmaker() as db:
        center = await db.get(Center, center_id)
        assert center is not None and center.name == "EMF Tiznit" and not center.active
        assert center.services == ["legal", "listening"]
    assert all(p.id != center_id or not p.active for p in await runtime.directory.points())

    exported = await client.get("/console/admin/centers/export.csv")
    assert exported.status_code == 200 and "EMF Tiznit" in exported.text
    changed = exported.text.replace("EMF Tiznit", "EMF de Tiznit")
    imported = await client.post("/console/admin/centers/import", data={"csrf_token": csrf},
                                 files={"file": ("centers.csv", changed, "text/csv")})
    assert imported.status_code == 200 and "EMF de Tiznit" in imported.text
    broken = "id,name\nx,y\n"
    refused = await client.post("/console/admin/centers/import", data={"csrf_token": csrf},
                                files={"file": ("c.csv", broken, "text/csv")})
    assert refused.status_code == 400 and "missing column" in refused.text
    actions = await _actions(runtime)
    for action in ("center.updated", "center.deactivated", "centers.exported",
                   "centers.imported"):
        assert action in actions


async def test_accounts_create_reset_assign_deactivate(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    csrf = await _boss(client, runtime)
    short = await client.post("/console/admin/accounts", data={
        "username": "amal", "password": "short", "role": "counselor",
        "center_id": "sample-09581-emf", "csrf_token": csrf})
    assert short.status_code == 400 and "password" in short.text
    made = await client.post("/console/admin/accounts", data={
        "username": "amal", "password": PASSWORD, "role": "counselor",
        "center_id": "sample-09581-emf", "csrf_token": csrf})
    assert made.status_code == 303
    async with runtime.sessionmaker() as db:
        amal = await db.scalar(select(Account).where(Account.username == "amal"))
        assert amal is not None
    amal_id = amal.id
    moved = await client.post(f"/console/admin/accounts/{amal_id}/center",
                              data={"center_id": "sample-06141-emf", "csrf_token": csrf})
    assert moved.status_code == 303
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url="http://testserver") as her_browser:
        await console_login(her_browser, "amal")
        await client.post(f"/console/admin/accounts/{amal_id}/password",
                          data={"password": "another long passphrase", "csrf_token": csrf})
        assert (await her_browser.get("/console/queue")).status_code == 303  # logged out
        await console_login(her_browser, "amal", "another long passphrase")
        await client.post(f"/console/admin/accounts/{amal_id}/active",
                          data={"active": "off", "csrf_token": csrf})
        assert (await her_browser.get("/console/queue")).status_code == 303
    async with runtime.sessionmaker() as db:
        amal = await db.get(Account, amal_id)
        assert amal is not None and not amal.active and amal.center_id == "sample-06141-emf"
    actions = await _actions(runtime)
    for action in ("account.created", "account.center_assigned", "account.password_reset",
                   "account.deactivated"):
        assert action in actions


async def test_canned_replies_need_all_four_varieties(client: httpx.AsyncClient,
                                                      runtime: Runtime) -> None:
    csrf = await _boss(client, runtime)
    texts = {"text_ary": "السلام", "text_ary_latn": "Salam", "text_ar": "مرحبا",
             "text_fr": "Bonjour"}
    partial = await client.post("/console/admin/canned", data={
        "title": "Salut", **{**texts, "text_ar": ""}, "csrf_token": csrf})
    assert partial.status_code == 400 and "text_ar" in partial.text
    made = await client.post("/console/admin/canned",
                             data={"title": "Salut", **texts, "csrf_token": csrf})
    assert made.status_code == 303
    async with runtime.sessionmaker() as db:
        reply = await db.scalar(select(CannedReply))
        assert reply is not None and reply.texts["fr"] == "Bonjour"
    edited = await client.post(f"/console/admin/canned/{reply.id}", data={
        "title": "Salut", **texts, "text_fr": "Bonjour madame", "csrf_token": csrf})
    assert edited.status_code == 303
    async with runtime.sessionmaker() as db:
        reply = await db.scalar(select(CannedReply))
        assert reply is not None and reply.texts["fr"] == "Bonjour madame" and not reply.active


async def test_intent_examples_browse_add_retrain(client: httpx.AsyncClient,
                                                  runtime: Runtime, tmp_path: Path) -> None:
    intents = runtime.settings.effective_intents_dir
    csrf = await _boss(client, runtime)
    added = await client.post("/console/admin/intents", data={
        "intent": "need_legal", "text": "bghit mo7amiya", "csrf_token": csrf})
    assert added.status_code == 303
    data = yaml.safe_load((intents / "console.yml").read_text(encoding="utf-8"))
    assert data["nlu"] == [{"intent": "need_legal", "metadata": {"variety": "ary_latn"},
                            "examples": "- bghit mo7amiya\n"}]
    page = (await client.get("/console/admin/intents")).text
    assert "bghit mo7amiya" in page
    twice = await client.post("/console/admin/intents", data={
        "intent": "need_shelter", "text": "Bghit  mo7amiya", "csrf_token": csrf})
    assert twice.status_code == 400 and "already an example of" in twice.text
    unknown = await client.post("/console/admin/intents", data={
        "intent": "need_pizza", "text": "x", "csrf_token": csrf})
    assert unknown.status_code == 400
    retrained = await client.post("/console/admin/intents/retrain", data={"csrf_token": csrf})
    assert retrained.status_code == 200
    assert "intent.example_added" in await _actions(runtime)
    assert "nlu.retrained" in await _actions(runtime)


async def test_the_audit_log_is_for_admins(client: httpx.AsyncClient,
                                           runtime: Runtime) -> None:
    await _boss(client, runtime)
    page = await client.get("/console/admin/audit?action=console.login")
    assert page.status_code == 200 and "console.login" in page.text
    assert csrf_of(page.text)
    await add_account(runtime, "salma", "counselor", "sample-09581-emf")
    await console_login(client, "salma")
    assert (await client.get("/console/admin/audit")).status_code == 403
