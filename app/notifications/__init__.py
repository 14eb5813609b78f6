"""Notifications: the transactional outbox, the rules of who hears of what, the channels that deliver
(e-mail, SMS, WeCom, DingTalk, webhooks, in the app) and the worker. See docs/notifications.md."""

from app.notifications.events import emit, managers_and_holders, mention, task_assigned
from app.notifications.steps import prefill

__all__ = ["emit", "managers_and_holders", "mention", "prefill", "task_assigned"]
