"""E-mail channel background work. Task names are stable; arguments are ids."""

from __future__ import annotations

from celery import shared_task

from . import polling


@shared_task(name="email_channel.poll_channels", ignore_result=True)
def poll_channels() -> int:
    """Beat: one poll task per active e-mail channel."""
    channel_ids = polling.channels_to_poll()
    for channel_id in channel_ids:
        poll_channel.delay(channel_id)
    return len(channel_ids)


@shared_task(name="email_channel.poll_channel", ignore_result=True)
def poll_channel(channel_id: int) -> str:
    """Reads one mailbox under its lease; a poll that stopped at its limit goes on at once."""
    result = polling.channel_poll(channel_id=channel_id)
    if result.more:
        poll_channel.delay(channel_id)
    return result.outcome
