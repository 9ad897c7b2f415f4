"""Customer notifications: which messages exist, when they are due, how they
are rendered and sent. Callers use only what this package exports:
``schedule`` (the webhook handlers, after applying a payload) and
``delay_job`` (the worker); plugin/outbox.py sends what is due."""

from .kinds import CHANNELS, KINDS, Kind
from .suppressions import Category, is_suppressed, suppress
from .rules import schedule
from .delays import job as delay_job
from .render import render_email, render_sms
from .preview import preview, send_test

__all__ = ["CHANNELS", "KINDS", "Category", "Kind", "delay_job", "is_suppressed", "preview", "render_email",
           "render_sms", "schedule", "send_test", "suppress"]
