"""Typed settings, read once from the environment.

`Settings.from_env()` is called by the one wiring point (`bot.runtime`); nothing else
reads `os.environ`. A value that is wrong fails at start with a message naming the
variable, e.g. ``setting PORT: Input should be a valid integer``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="",
        case_sensitive=False,
        extra="ignore",
        frozen=True,
    )

    # Where things live
    var_dir: Path = Field(default=PROJECT_ROOT / "var")
    flows_dir: Path = Field(default=PROJECT_ROOT / "config" / "flows")
    data_dir: Path = Field(default=PROJECT_ROOT / "data")

    # Storage
    database_url: str = ""  # empty: SQLite file under var_dir
    redis_url: str = ""  # empty: in-process session store, locks and notifications
    # PostgreSQL connections kept open by each worker process. Under load a worker uses
    # about as many as the requests it serves at once; opening one costs more than a
    # dozen statements, so the pool should cover the peak (workers x (this + 5) < the
    # server's max_connections). A third of them serve the statements that stand alone
    # (sent by asyncpg directly), the rest SQLAlchemy's transactions (up to 5 more
    # under a burst).
    database_pool_size: int = Field(default=15, ge=1, le=200)

    # Web server
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    simulator_enabled: bool = True
    public_base_url: str = ""

    # Secrets: from the environment only. When absent, keys are generated on first
    # run into var_dir (0600) with a warning: fine for a laptop, not for production.
    encryption_keys: str = Field(default="", repr=False)  # Fernet keys, newest first
    address_hash_key: str = Field(default="", repr=False)  # key for hashing addresses

    # The name her phone shows for Amane: neutral, never the service or its subject
    # (Telegram bot name, set by `run_bot.py telegram set-webhook`; for WhatsApp it is
    # the business display name approved by Meta, for SMS the number or sender id).
    sender_name: str = Field(default="Info", min_length=1, max_length=64)

    # Conversation
    session_ttl_seconds: int = Field(default=30 * 60, ge=60)
    max_text_length: int = Field(default=4096, ge=16)
    default_flow: str = "intake"
    # Her message within this many days of her case's close reopens it (after that, a
    # new intake, linked to the earlier case for the counselor)
    case_reopen_days: int = Field(default=30, ge=0)
    # While her case waits, what she writes is acknowledged at most this often
    case_ack_interval_minutes: int = Field(default=60, ge=1)

    # Retention: messages of a case closed this many days ago are deleted
    retention_days: int = Field(default=90, ge=1)

    # Counselor API
    api_token_ttl_seconds: int = Field(default=12 * 3600, ge=60)

    # Abuse protection: messages per sender, requests per IP address, logins per IP
    rate_limit_sender_per_minute: int = Field(default=20, ge=1)
    rate_limit_ip_per_minute: int = Field(default=240, ge=1)
    rate_limit_login_per_minute: int = Field(default=10, ge=1)

    # Counselor and admin console (issue 5)
    console_session_ttl_seconds: int = Field(default=12 * 3600, ge=300)
    sla_urgent_minutes: int = Field(default=15, ge=1)  # unclaimed urgent case: escalate
    sla_normal_minutes: int = Field(default=240, ge=1)  # unclaimed normal case: escalate
    sla_center_hops: int = Field(default=1, ge=0)  # centers tried before the national queue
    sla_check_seconds: int = Field(default=60, ge=1)  # how often the SLA check runs
    flow_refresh_seconds: int = Field(default=30, ge=1)  # how often published flows reload

    # Many workers (issue 8): messages stored but not processed this long ago (a worker
    # died, an outage) are processed by the inbox sweep, which runs this often; a
    # message left 'sending' this long by a dead worker is sent again.
    inbox_sweep_seconds: float = Field(default=5.0, gt=0)
    outbox_stale_seconds: int = Field(default=300, ge=30)
    intents_dir: Path | None = None  # default: data_dir/intents (Rasa NLU YAML)

    # Language understanding
    nlu_cache_dir: Path | None = None  # default: var_dir/nlu
    rasa_url: str = ""  # a Rasa server's base URL: intents come from its /model/parse

    # Channels (a channel whose settings are absent is off; README "Connecting ...")
    telegram_bot_token: str = Field(default="", repr=False)
    telegram_webhook_secret: str = Field(default="", repr=False)
    telegram_api_base_url: str = "https://api.telegram.org/bot"  # python-telegram-bot form
    twilio_account_sid: str = ""
    twilio_auth_token: str = Field(default="", repr=False)
    twilio_sms_from: str = ""
    twilio_whatsapp_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = ""  # empty: Twilio's own API
    twilio_whatsapp_template_sid: str = ""
    # Stats: a town farther than this from the nearest center offering a service is a gap
    coverage_gap_km: float = Field(default=50.0, gt=0, le=2000)

    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(Amane uses the async drivers)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL, or empty")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("telegram_api_base_url", "twilio_api_base_url")
    @classmethod
    def _api_base_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("must be 1-256 characters among A-Z, a-z, 0-9, _ and - "
                             "(Telegram's rule for secret_token)")
        return value

    @field_validator("twilio_whatsapp_from")
    @classmethod
    def _whatsapp_from(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("whatsapp:"):
            value = "whatsapp:" + value
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    def twilio_channel_missing(self, channel: str) -> list[str]:
        """The settings a Twilio channel (`sms` or `whatsapp`) still needs; empty: on."""
        missing = [name for name, value in (("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                                            ("TWILIO_AUTH_TOKEN", self.twilio_auth_token))
                   if not value]
        sender = self.twilio_sms_from if channel == "sms" else self.twilio_whatsapp_from
        if not sender and not self.twilio_messaging_service_sid:
            missing.append(("TWILIO_SMS_FROM" if channel == "sms" else "TWILIO_WHATSAPP_FROM")
                           + " or TWILIO_MESSAGING_SERVICE_SID")
        return missing

    @property
    def effective_intents_dir(self) -> Path:
        return self.intents_dir or self.data_dir / "intents"

    @property
    def nlu_model_dir(self) -> Path:
        return self.nlu_cache_dir or self.var_dir / "nlu"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'amane.sqlite3'}"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read the environment once; raise `SettingsError` naming the variable at fault."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ".".join(str(part) for part in error["loc"]).upper() or "?"
                problems.append(f"setting {name}: {error['msg']}")
            raise SettingsError("; ".join(problems)) from None
