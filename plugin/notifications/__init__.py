"""Customer notifications: which messages exist, when they are due, how they
are rendered and sent. Callers use only what this package exports."""

from .kinds import CHANNELS, KINDS, Kind
from .suppressions import Category, is_suppressed, suppress

__all__ = ["CHANNELS", "KINDS", "Category", "Kind", "is_suppressed", "suppress"]
