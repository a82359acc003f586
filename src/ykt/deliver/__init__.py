"""Delivery of complaint cases to the 监督一点通 platform (outbox, HTTP with retries): the only code that posts."""

from ykt.deliver.platform import DeliveryResult, check_endpoint, deliver, platform_token

__all__ = ["DeliveryResult", "check_endpoint", "deliver", "platform_token"]
