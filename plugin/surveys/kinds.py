"""The survey kinds and their scales: one place names them all.

Each kind asks one question on a fixed scale. ``low_at_most`` marks the
answers a merchant is alerted to (and follows up); ``high_from`` marks the
answers each metric counts as good: satisfied (CSAT 4–5), easy (CES 5–7),
promoters (NPS 9–10). NPS subtracts the low share (detractors, 0–6) from the
high one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    min: int
    max: int
    low_at_most: int
    high_from: int

    def __contains__(self, score: int) -> bool:
        return self.min <= score <= self.max

    def is_low(self, score: int) -> bool:
        return score <= self.low_at_most


class SurveyKind(str, enum.Enum):
    CSAT = "csat"
    CES = "ces"
    NPS = "nps"

    @property
    def scale(self) -> Scale:
        return _SCALES[self]

    @property
    def question(self) -> str:
        """The English question; rendered mails and pages translate it."""
        return _QUESTIONS[self]


_SCALES = {
    SurveyKind.CSAT: Scale(min=1, max=5, low_at_most=2, high_from=4),
    SurveyKind.CES: Scale(min=1, max=7, low_at_most=3, high_from=5),
    SurveyKind.NPS: Scale(min=0, max=10, low_at_most=6, high_from=9),
}

_QUESTIONS = {
    SurveyKind.CSAT: "How satisfied are you with your order?",
    SurveyKind.CES: "How easy was it to get what you needed?",
    SurveyKind.NPS: "How likely are you to recommend us to a friend?",
}

SURVEY_KINDS: tuple[str, ...] = tuple(kind.value for kind in SurveyKind)


class Touchpoint(str, enum.Enum):
    """The moment a survey asks about: a delivery, or a finished return."""

    DELIVERY = "delivery"
    RETURN = "return"
