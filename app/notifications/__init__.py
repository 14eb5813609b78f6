"""Notifications: the transactional outbox, the rules of who hears of what, the channels that deliver
(e-mail, SMS, WeCom, DingTalk, webhooks, in the app) and the worker. See docs/notifications.md."""

from app.notifications.events import emit, task_assigned

__all__ = ["emit", "task_assigned"]
