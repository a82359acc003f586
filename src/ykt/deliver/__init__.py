"""Delivery of complaint cases to the 监督一点通 platform (outbox, HTTP with retries) and of the night's
notification to IT's webhook: the only code that posts."""

from ykt.deliver.notify import NightNotice, check_notify_url, notify_night, notify_url
from ykt.deliver.platform import DeliveryResult, check_endpoint, deliver, platform_token

__all__ = [
    "DeliveryResult",
    "NightNotice",
    "check_endpoint",
    "check_notify_url",
    "deliver",
    "notify_night",
    "notify_url",
    "platform_token",
]
