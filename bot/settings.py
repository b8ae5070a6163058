"""Typed settings, read once from the environment.

`Settings.from_env()` is called by the one wiring point (`bot.runtime`); nothing else
reads `os.environ`. A value that is wrong fails at start with a message naming the
variable, e.g. ``setting PORT: Input should be a valid integer``.
"""

from __future__ import annotations

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

    # Web server
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    simulator_enabled: bool = True
    public_base_url: str = ""

    # Secrets: from the environment only. When absent, keys are generated on first
    # run into var_dir (0600) with a warning: fine for a laptop, not for production.
    encryption_keys: str = Field(default="", repr=False)  # Fernet keys, newest first
    address_hash_key: str = Field(default="", repr=False)  # key for hashing addresses

    # Conversation
    session_ttl_seconds: int = Field(default=30 * 60, ge=60)
    max_text_length: int = Field(default=4096, ge=16)
    default_flow: str = "intake"

    # Counselor API
    api_token_ttl_seconds: int = Field(default=12 * 3600, ge=60)

    # Language understanding
    nlu_cache_dir: Path | None = None  # default: var_dir/nlu
    rasa_url: str = ""  # a Rasa server's base URL: intents come from its /model/parse

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

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

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
