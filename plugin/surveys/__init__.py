"""Surveys: invitations, answers and their metrics. Callers use only what
this package exports (the admin JSON API lives in api.py; sending.py, which
the worker and the outbox import directly, decides when invitations go)."""

from .answers import MAX_COMMENT, AnswerRefused, InvalidAnswer, record_answer
from .customers import erase_for_orders, export_for_orders
from .export import responses_csv
from .invitations import ANSWER_WINDOW, days_late, invite, mark_sent
from .kinds import SURVEY_KINDS, Scale, SurveyKind, Touchpoint
from .metrics import BREAKDOWNS, LATENESS_LABELS, durations_summary, lateness, summary
from .models import InvitationStatus, SurveyInvitation, SurveyResponse

__all__ = [
    "ANSWER_WINDOW", "BREAKDOWNS", "LATENESS_LABELS", "MAX_COMMENT", "SURVEY_KINDS", "AnswerRefused",
    "InvalidAnswer", "InvitationStatus", "Scale", "SurveyInvitation", "SurveyKind", "SurveyResponse",
    "Touchpoint", "days_late", "durations_summary", "erase_for_orders", "export_for_orders", "invite",
    "lateness", "mark_sent", "record_answer", "responses_csv", "summary",
]
