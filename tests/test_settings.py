from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "HOST", "DATABASE_URL", "REDIS_URL", "SIMULATOR_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.simulator_enabled is True
    assert settings.redis_url == ""
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")


def test_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9090")
    monkeypatch.setenv("SIMULATOR_ENABLED", "false")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    settings = Settings.from_env()
    assert settings.port == 9090
    assert settings.simulator_enabled is False
    assert settings.redis_url == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PORT", "eighty", "setting PORT: Input should be a valid integer"),
    ("PORT", "70000", "setting PORT: Input should be less than or equal to 65535"),
    ("DATABASE_URL", "postgresql://x/y", "setting DATABASE_URL: Value error, must start with"),
    ("REDIS_URL", "http://x", "setting REDIS_URL: Value error, must be a redis://"),
    ("SIMULATOR_ENABLED", "maybe", "setting SIMULATOR_ENABLED: Input should be a valid boolean"),
    ("LOG_LEVEL", "LOUD", "setting LOG_LEVEL: Value error, must be one of"),
])
def test_a_wrong_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                  message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()


def test_channel_settings_and_secrets_stay_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:very-secret-token")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook_secret-1")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-secret-token")
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "+212500000002")
    settings = Settings.from_env()
    assert settings.twilio_whatsapp_from == "whatsapp:+212500000002"
    assert settings.telegram_enabled
    assert settings.twilio_channel_missing("sms") == [
        "TWILIO_ACCOUNT_SID", "TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID"]
    for secret in ("very-secret-token", "hook_secret-1", "twilio-secret-token"):
        assert secret not in repr(settings)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("TELEGRAM_WEBHOOK_SECRET", "has spaces", "setting TELEGRAM_WEBHOOK_SECRET: Value error"),
    ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot", "setting TELEGRAM_API_BASE_URL: Value"),
    ("TWILIO_API_BASE_URL", "ftp://x", "setting TWILIO_API_BASE_URL: Value error"),
])
def test_a_wrong_channel_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str,
                                          value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()
