"""The one wiring point: builds everything Amane runs from `Settings`.

Nothing else constructs engines, stores or clients; `run_bot.py` parses arguments and
calls this, the web app receives the `Runtime` it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import OutboundSender
from bot.channels.catalog import ChannelCatalog, build_channels
from bot.channels.simulator import RecordingSender
from bot.conversation.after_handoff import AfterHandoff
from bot.conversation.checkpoints import CheckpointStore
from bot.conversation.forgetting import Forgetting
from bot.conversation.inbox import Inbox
from bot.conversation.manager import ConversationManager
from bot.conversation.receive import Reception, accept_telegram, after_ack, sweep
from bot.conversation.set_aside import SettingAside
from bot.conversation.turn import Turn
from bot.conversation.understanding import Understanding
from bot.crypto import AddressHasher, Cipher, load_keys
from bot.flows.registry import FlowRegistry
from bot.flows.schema import Flow
from bot.flows.versions import FlowVersions
from bot.handoff.cases import CaseService
from bot.handoff.directory import CenterDirectory
from bot.handoff.sla import SlaMonitor, SlaPolicy
from bot.handoff.transfers import TransferService
from bot.handoff.updates import UpdatesToHer
from bot.intent_examples import IntentTrainer, LocalNluTrainer
from bot.nlu.pipeline import LocalNlu
from bot.nlu.places import Gazetteer, load_gazetteer
from bot.nlu.rasa_http import RasaNlu
from bot.nlu.result import NluBackend
from bot.nlu.variety import choose_reply_variety
from bot.notify import CaseNotifier, MemoryCaseNotifier, RedisCaseNotifier
from bot.outbox import Outbox
from bot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.retention import run_daily
from bot.sessions import (
    ConversationLock,
    MemoryConversationLock,
    MemorySessionStore,
    RedisConversationLock,
    RedisSessionStore,
    SessionStore,
)
from bot.settings import Settings
from bot.storage.database import create_engine, create_sessionmaker
from bot.storage.statements import Statements

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    statements: Statements
    cipher: Cipher
    hasher: AddressHasher
    sessions: SessionStore
    locks: ConversationLock
    redis: Redis | None
    nlu: NluBackend
    places: Gazetteer
    flows: FlowRegistry
    directory: CenterDirectory
    outbox: Outbox
    cases: CaseService
    understanding: Understanding
    conversations: ConversationManager
    rate_limiter: RateLimiter
    notifier: CaseNotifier
    transfers: TransferService
    sla: SlaMonitor
    flow_versions: FlowVersions
    nlu_trainer: IntentTrainer
    channels: ChannelCatalog = field(default_factory=ChannelCatalog)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def reception(self) -> Reception:
        """What receiving her messages uses (`bot.conversation.receive`), as the
        runtime stands now (settings and channels can be replaced in tests)."""
        return Reception(conversations=self.conversations, delivery=self.outbox.delivery,
                         rate_limiter=self.rate_limiter,
                         sender_limit_per_minute=self.settings.rate_limit_sender_per_minute,
                         telegram=self.channels.telegram, current_flow=self.current_flow)

    def current_flow(self) -> Flow:
        """The flow conversations run now (the version published last)."""
        return self.flows.get(self.settings.default_flow)

    async def start_background(self, *, telegram_polling: bool = False) -> None:
        """Start the loops a server runs: the outbox, the messages stored but not yet
        processed (a crash), the SLA check, the refresh of published flows, the daily
        purge, and Telegram polling when asked for."""
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        self._tasks.append(asyncio.create_task(
            sweep(self.conversations, self.settings.inbox_sweep_seconds), name="inbox sweep"))
        self._tasks.append(asyncio.create_task(
            self.sla.run(self.settings.sla_check_seconds), name="sla"))
        self._tasks.append(asyncio.create_task(
            self.flow_versions.run(self.settings.flow_refresh_seconds), name="flow-refresh"))
        self._tasks.append(asyncio.create_task(
            run_daily(self.sessionmaker, self.settings.retention_days), name="purge"))
        self._tasks.append(asyncio.create_task(self._follow_nlu_examples(), name="nlu-refresh"))
        if telegram_polling and self.channels.telegram is not None:
            async def receive(update: Any) -> None:
                reception = self.reception
                await after_ack(reception, await accept_telegram(reception, update))

            self._tasks.append(asyncio.create_task(self.channels.telegram.poll(receive),
                                                   name="telegram polling"))

    async def _follow_nlu_examples(self, interval: float = 60.0) -> None:
        """Examples added in the console (on any worker) retrain this worker's model."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.nlu_trainer.retrain()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("NLU refresh failed; the current model stays")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.channels.aclose()
        if isinstance(self.nlu, RasaNlu):
            await self.nlu.aclose()
        await self.notifier.aclose()
        await self.sessions.close()
        await self.statements.close()
        await self.db_engine.dispose()


def build_runtime(settings: Settings, *, senders: list[OutboundSender] | None = None) -> Runtime:
    keys = load_keys(settings)
    cipher, hasher = keys.cipher(), keys.hasher()
    # DATABASE_POOL_SIZE is shared: a third for the statements that stand alone (sent
    # by asyncpg on PostgreSQL), the rest for transactions.
    standalone = max(1, settings.database_pool_size // 3)
    db_engine = create_engine(settings.effective_database_url,
                              pool_size=max(1, settings.database_pool_size - standalone))
    sessionmaker = create_sessionmaker(db_engine)
    statements = Statements(db_engine, pool_size=standalone)

    redis: Redis | None = None
    sessions: SessionStore
    locks: ConversationLock
    rate_limiter: RateLimiter
    notifier: CaseNotifier
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url, health_check_interval=30)
        sessions = RedisSessionStore(redis)
        locks = RedisConversationLock(redis)
        rate_limiter = RedisRateLimiter(redis)
        notifier = RedisCaseNotifier(redis)
    else:
        sessions = MemorySessionStore(snapshot=settings.var_dir / "sessions.snapshot")
        locks = MemoryConversationLock()
        rate_limiter = MemoryRateLimiter()
        notifier = MemoryCaseNotifier()

    places = load_gazetteer(settings.data_dir / "geo")
    local_nlu = LocalNlu(settings.nlu_model_dir, data_dir=settings.effective_intents_dir,
                         gazetteer=places)
    nlu: NluBackend = local_nlu
    if settings.rasa_url:
        nlu = RasaNlu(settings.rasa_url, local=local_nlu)
    flows = FlowRegistry.from_directory(settings.flows_dir)
    flows.get(settings.default_flow)  # fail at start if the default flow is missing

    directory = CenterDirectory(sessionmaker)
    all_senders: list[OutboundSender] = [RecordingSender("simulator"), RecordingSender("terminal")]
    channels = build_channels(settings)
    all_senders.extend(channels.senders)
    all_senders.extend(senders or [])
    outbox = Outbox(sessionmaker, cipher, {s.channel: s for s in all_senders},
                    statements=statements,
                    stale_sending=timedelta(seconds=settings.outbox_stale_seconds))
    def current_flow() -> Flow:
        return flows.get(settings.default_flow)

    updates = UpdatesToHer(outbox.queue, current_flow)
    cases = CaseService(cipher, directory, outbox.queue, updates, notifier)
    understanding = Understanding(nlu, places, choose_reply_variety)
    conversations = build_conversations(
        settings, sessionmaker=sessionmaker, statements=statements, cipher=cipher,
        hasher=hasher, sessions=sessions, locks=locks, flows=flows,
        understanding=understanding, places=places, cases=cases, outbox=outbox)
    return Runtime(settings=settings, db_engine=db_engine, sessionmaker=sessionmaker,
                   statements=statements,
                   cipher=cipher, hasher=hasher, sessions=sessions, locks=locks, redis=redis,
                   nlu=nlu, places=places, flows=flows, directory=directory, outbox=outbox,
                   cases=cases, understanding=understanding, conversations=conversations,
                   rate_limiter=rate_limiter,
                   channels=channels, notifier=notifier,
                   transfers=TransferService(cases, places, cipher, updates),
                   sla=SlaMonitor(sessionmaker, directory, places, cipher, notifier,
                                  SlaPolicy.from_settings(settings), updates),
                   flow_versions=FlowVersions(sessionmaker, flows, settings.flows_dir),
                   nlu_trainer=LocalNluTrainer(local_nlu))


def build_conversations(settings: Settings, *, sessionmaker: async_sessionmaker[AsyncSession],
                        statements: Statements, cipher: Cipher, hasher: AddressHasher,
                        sessions: SessionStore, locks: ConversationLock, flows: FlowRegistry,
                        understanding: Understanding, places: Gazetteer, cases: CaseService,
                        outbox: Outbox) -> ConversationManager:
    """The conversation package, assembled (`bot/conversation/`)."""
    def current_flow() -> Flow:
        return flows.get(settings.default_flow)

    inbox = Inbox(sessionmaker, statements=statements, cipher=cipher, hasher=hasher,
                  outbox=outbox.queue)
    checkpoints = CheckpointStore(sessions, cipher, ttl_seconds=settings.session_ttl_seconds)
    after_handoff = AfterHandoff(
        cases, places, understanding,
        ack_interval=timedelta(minutes=settings.case_ack_interval_minutes))
    turn = Turn(sessionmaker, current_flow=current_flow, inbox=inbox, checkpoints=checkpoints,
                understanding=understanding, after_handoff=after_handoff, cases=cases,
                forgetting=Forgetting(cases, outbox.queue), outbox=outbox.queue,
                reopen_within=timedelta(days=settings.case_reopen_days))
    setting_aside = SettingAside(sessionmaker, inbox=inbox, checkpoints=checkpoints,
                                 understanding=understanding, outbox=outbox.queue)
    return ConversationManager(inbox=inbox, checkpoints=checkpoints, locks=locks, turn=turn,
                               setting_aside=setting_aside, outbox=outbox.queue)
