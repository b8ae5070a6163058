"""Which channels are on: built from `Settings` by the one wiring point.

A channel whose settings are absent is off, and says so once, at start, naming the
missing variables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.channels.base import MediaUnavailable, OutboundSender
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import STATUS_PATH, TwilioApi, TwilioSender
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class ChannelCatalog:
    senders: list[OutboundSender] = field(default_factory=list)
    telegram: TelegramChannel | None = None
    twilio: TwilioApi | None = None
    off: dict[str, str] = field(default_factory=dict)  # channel -> why it is off

    async def fetch_media(self, channel: str, url: str) -> tuple[bytes, str | None]:
        """What she attached, from her channel's provider (`MediaUnavailable` if it
        cannot be had: the channel is off, the provider lost or refuses it)."""
        if channel == "telegram" and self.telegram is not None:
            return await self.telegram.fetch_media(url)
        if channel in ("sms", "whatsapp") and self.twilio is not None:
            return await self.twilio.fetch_media(url)
        raise MediaUnavailable(f"the {channel} channel is off")

    async def aclose(self) -> None:
        if self.telegram is not None:
            await self.telegram.aclose()
        if self.twilio is not None:
            await self.twilio.aclose()


def build_channels(settings: Settings) -> ChannelCatalog:
    catalog = ChannelCatalog()
    if settings.telegram_enabled:
        catalog.telegram = TelegramChannel(settings.telegram_bot_token,
                                           base_url=settings.telegram_api_base_url,
                                           webhook_secret=settings.telegram_webhook_secret)
        catalog.senders.append(catalog.telegram.sender)
        if not catalog.telegram.webhook_ready:
            logger.warning("channel telegram: on for polling only; its webhook answers 403 "
                           "until TELEGRAM_WEBHOOK_SECRET is set")
        else:
            logger.info("channel telegram: on")
    else:
        catalog.off["telegram"] = "TELEGRAM_BOT_TOKEN is not set"

    status_callback = settings.public_base_url + STATUS_PATH if settings.public_base_url else ""
    for channel in ("sms", "whatsapp"):
        missing = settings.twilio_channel_missing(channel)
        if missing:
            catalog.off[channel] = f"{', '.join(missing)} not set"
            continue
        if catalog.twilio is None:
            catalog.twilio = TwilioApi(settings.twilio_account_sid, settings.twilio_auth_token,
                                       base_url=settings.twilio_api_base_url)
        catalog.senders.append(TwilioSender(
            channel, catalog.twilio,
            from_=settings.twilio_sms_from if channel == "sms" else settings.twilio_whatsapp_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback=status_callback,
            template_sid=settings.twilio_whatsapp_template_sid if channel == "whatsapp" else ""))
        if not settings.public_base_url:
            logger.warning("channel %s: on, but its webhook answers 403 until PUBLIC_BASE_URL "
                           "is set (signatures are checked against it)", channel)
        else:
            logger.info("channel %s: on", channel)
        if channel == "whatsapp" and not settings.twilio_whatsapp_template_sid:
            logger.warning("channel whatsapp: no TWILIO_WHATSAPP_TEMPLATE_SID; replies after "
                           "24 hours wait until she writes again")
    for channel, reason in catalog.off.items():
        logger.info("channel %s: off (%s)", channel, reason)
    return catalog
