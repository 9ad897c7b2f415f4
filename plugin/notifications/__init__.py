"""Customer notifications: which messages exist, when they are due, how they
are rendered and sent. Callers use only what this package exports."""

from .kinds import CHANNELS, KINDS, Kind
from .suppressions import Category, is_suppressed, suppress
from .render import render_email, render_sms
from .preview import preview, send_test

__all__ = ["CHANNELS", "KINDS", "Category", "Kind", "is_suppressed", "preview", "render_email",
           "render_sms", "send_test", "suppress"]
