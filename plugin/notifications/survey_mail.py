"""What a survey invitation says: its questions in the customer's language
and the one-click answer links.

The email asks the invitation's first question; each point of its scale is
a signed link of its own (links.py, purpose ``survey``: shop, invitation,
question and score, valid ANSWER_WINDOW), opening the answer page /s/…
with that score chosen. The page (plugin/surveys/pages.py) then asks the
other questions. The question texts live here, beside the email's, so one
catalog translates both.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import links
from ..models import Notification, Order, Shop
from ..surveys.kinds import SurveyKind, Touchpoint
from ..surveys.models import InvitationStatus, SurveyInvitation
from .i18n import gettext
from .kinds import Kind


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is shown."""
    return message


# (kind, touchpoint) → the question; NPS names the shop (%(shop_name)s).
QUESTIONS = {
    (SurveyKind.CSAT, Touchpoint.DELIVERY): _("How satisfied are you with your order?"),
    (SurveyKind.CSAT, Touchpoint.RETURN): _("How satisfied are you with how your return was handled?"),
    (SurveyKind.CES, Touchpoint.DELIVERY): _("How easy was it to get your order?"),
    (SurveyKind.CES, Touchpoint.RETURN): _("How easy was it to return your items?"),
    (SurveyKind.NPS, Touchpoint.DELIVERY): _("How likely are you to recommend %(shop_name)s to a friend?"),
    (SurveyKind.NPS, Touchpoint.RETURN): _("How likely are you to recommend %(shop_name)s to a friend?"),
}
# The words at each end of a scale.
ENDS = {
    SurveyKind.CSAT: (_("Very dissatisfied"), _("Very satisfied")),
    SurveyKind.CES: (_("Very difficult"), _("Very easy")),
    SurveyKind.NPS: (_("Not at all likely"), _("Extremely likely")),
}


def question(kind: SurveyKind, touchpoint: str, locale: str, shop_name: str) -> dict:
    """One question as the email and the page show it: text, ends, points."""
    low, high = ENDS[kind]
    scale = kind.scale
    return {
        "kind": kind.value,
        "text": gettext(locale, QUESTIONS[(kind, Touchpoint(touchpoint))], shop_name=shop_name),
        "low_label": gettext(locale, low),
        "high_label": gettext(locale, high),
        "scores": list(range(scale.min, scale.max + 1)),
    }


def answer_url(shop_id: int, invitation_id: int, kind: str, score: int | None) -> str:
    return links.url("survey", shop_id=shop_id, invitation_id=invitation_id, question=kind, score=score)


def view(shop: Shop, invitation: SurveyInvitation, locale: str) -> dict:
    """The invitation as its email shows it: the first question with one link
    per score, and a link to the page without a score (for SMS)."""
    kind = SurveyKind(invitation.kinds[0])
    first = question(kind, invitation.touchpoint, locale, shop.name or shop.domain)
    first["points"] = [{"score": s, "url": answer_url(shop.id, invitation.id, kind.value, s)}
                       for s in first["scores"]]
    return {
        "touchpoint": invitation.touchpoint,
        "question": first,
        "more": len(invitation.kinds) - 1,
        "page_url": answer_url(shop.id, invitation.id, kind.value, None),
    }


def load(session: Session, shop: Shop, notification: Notification) -> SurveyInvitation | None:
    """The invitation an outbox row is about (None for other kinds);
    LookupError when it was erased after the message was queued."""
    if notification.kind != Kind.SURVEY.value:
        return None
    invitation = session.scalar(select(SurveyInvitation).where(
        SurveyInvitation.shop_id == shop.id,
        SurveyInvitation.id == (notification.context or {}).get("invitation_id"),
        SurveyInvitation.order_id == notification.order_id))
    if invitation is None or invitation.status == InvitationStatus.ERASED.value:
        raise LookupError("the survey was erased before the message could be sent")
    return invitation


def sample(shop: Shop, order: Order, touchpoint: str = "delivery") -> SurveyInvitation:
    """An invitation for previews (not stored): the shop's survey kinds."""
    return SurveyInvitation(id=0, shop_id=shop.id, order_id=order.id, touchpoint=touchpoint,
                            kinds=["csat", "ces"])
