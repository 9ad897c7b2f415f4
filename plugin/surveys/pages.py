"""The survey answer page: GET/POST /s/<token>.

Each score in an invitation email is its own signed link (links.py, purpose
``survey``: shop, invitation, question, score). Opening one shows that
score highlighted; the page then POSTs it itself (one line of script,
allowed by this request's CSP nonce), and a visitor without JavaScript
confirms it with one button. A GET never records anything, so a mail
scanner's HEAD or GET is not an answer. The POST answers with the form of
every question of the invitation and an optional comment, which can be sent
and changed until the invitation expires.

A link that is forged, expired, of an erased order or a closed survey, or
names a question or score the survey does not have (a signed token with 7
on a 1-5 scale can only come from a bug, and is refused all the same) gets
the friendly page of the other shopper pages with a 4xx. Answers are
recorded by ``record_answer`` (one per question per invitation, whatever
races); a low one queues the merchant's alert (alerts.py) in the same
transaction.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, g, request
from sqlalchemy import select

from .. import links, settings
from ..db import get_session
from ..headers import csp_nonce
from ..locales import DEFAULT_LOCALE, LOCALES, negotiate
from ..models import Order, Shop, utcnow
from ..notifications import i18n
from ..notifications.survey_mail import question
from ..tracking.pages import branded_page
from . import alerts
from .answers import MAX_COMMENT, AnswerRefused, InvalidAnswer, check_open, clean_comment, parse_kind, parse_score
from .answers import record_answer
from .invitations import mark_sent
from .kinds import SurveyKind
from .models import SurveyInvitation, SurveyResponse

bp = Blueprint("surveys", __name__)


def _(message: str) -> str:
    """Marks a string for extraction (babel.cfg); translated where it is shown."""
    return message


TOO_LONG = _("Your comment is too long: at most %(max)s characters.")
OFF_SCALE = _("Please choose one of the scores shown.")
NO_SCORE = _("Please choose a score first.")

TEMPLATES = (str(Path(__file__).parent / "templates"), str(Path(__file__).parents[1] / "tracking" / "templates"))


@bp.after_request
def _headers(response):
    # The one-click page's single inline script runs by this request's nonce; nothing else runs.
    scripts = f"'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "'none'"
    response.headers.update({
        "Content-Security-Policy": (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; "
                                    "img-src https: data:; form-action 'self'; base-uri 'none'; "
                                    "frame-ancestors 'none'"),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the token is in the URL
        "Cache-Control": "no-store",
    })
    return response


def _page(name: str, locale: str, status: int = 200, **values):
    return branded_page(TEMPLATES, name, locale, status, **values)


def _refuse(status: int, reason: str, locale: str, **branding):
    """The friendly page (reason: invalid, expired, gone), as /t/ and /u/ show it."""
    return _page("link_error.html", locale, status, reason=reason, **branding)


class _Refused(Exception):
    def __init__(self, status: int, reason: str, locale: str, branding: dict | None = None):
        super().__init__(reason)
        self.status, self.reason, self.locale, self.branding = status, reason, locale, branding or {}


def _open(token: str):
    """(shop, invitation, order, question kind, score, locale, branding) of a
    link that takes answers now; raises _Refused."""
    locale = request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE
    try:
        fields = links.load("survey", token)
    except links.BadLink as exc:
        raise _Refused(410 if exc.reason == "expired" else 404, exc.reason, locale) from None
    session = get_session()
    shop = session.get(Shop, fields["shop_id"]) if isinstance(fields["shop_id"], int) else None
    invitation = None
    if shop is not None and shop.installed and isinstance(fields["invitation_id"], int):
        invitation = session.scalar(select(SurveyInvitation).where(
            SurveyInvitation.shop_id == shop.id, SurveyInvitation.id == fields["invitation_id"]))
    if invitation is None:
        raise _Refused(404, "gone", locale)
    values = settings.load(session, shop.id)
    branding = {"brand_color": values["branding.color"], "logo_url": values["branding.logo_url"],
                "shop_name": shop.name or shop.domain}
    locale = negotiate(invitation.locale) if invitation.locale else locale
    if invitation.sent_at is None and current_app.config.get("DEMO"):
        # The demo has no mail server: its outbox view stands in for the
        # inbox, so an invitation read there counts as sent (written with the answer).
        mark_sent(invitation)
    try:
        check_open(shop, invitation)
        kind = parse_kind(invitation, fields["question"])
        score = fields["score"]
        if score is not None:  # the token holds a number, never text: "4" is no score of ours
            score = parse_score(kind, score if isinstance(score, int) else None)
    except AnswerRefused as exc:
        raise _Refused(410 if exc.reason in ("expired", "erased") else 404,
                       {"expired": "expired", "erased": "gone"}.get(exc.reason, "invalid"), locale, branding) from None
    except InvalidAnswer:
        raise _Refused(400, "invalid", locale, branding) from None
    order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == invitation.order_id))
    return shop, invitation, order, kind, score, locale, branding


def _answers(shop: Shop, invitation: SurveyInvitation) -> tuple[dict[str, int], str | None]:
    rows = get_session().scalars(select(SurveyResponse).where(
        SurveyResponse.shop_id == shop.id, SurveyResponse.invitation_id == invitation.id))
    answers, comment = {}, None
    for row in rows:
        answers[row.kind] = row.score
        comment = row.comment or comment
    return answers, comment


def _form(shop, invitation, order, locale, branding, *, status=200, saved=None, error=None, comment=None):
    answers, stored_comment = _answers(shop, invitation)
    questions = [question(SurveyKind(k), invitation.touchpoint, locale, branding["shop_name"])
                 for k in invitation.kinds]
    return _page("survey.html", locale, status, mode="form", questions=questions, answers=answers,
                 comment=stored_comment if comment is None else comment, saved=saved, error=error,
                 touchpoint=invitation.touchpoint, order_name=(order.name if order else "") or "",
                 max_comment=MAX_COMMENT, nonce=None, **branding)


@bp.route("/s/<token>", methods=["GET", "POST"])
def answer(token: str):
    try:
        shop, invitation, order, kind, score, locale, branding = _open(token)
    except _Refused as refused:
        return _refuse(refused.status, refused.reason, refused.locale, **refused.branding)
    if request.method != "POST":  # GET, and HEAD (a link scanner's): never an answer
        if score is None:
            return _form(shop, invitation, order, locale, branding)
        chosen = question(kind, invitation.touchpoint, locale, branding["shop_name"])
        return _page("survey.html", locale, mode="confirm", chosen=chosen, score=score, nonce=csp_nonce(),
                     order_name=(order.name if order else "") or "", **branding)
    return _submit(shop, invitation, order, kind, locale, branding)


def _submit(shop, invitation, order, kind, locale, branding):
    """Record what the form holds: a score per question answered, and the
    comment (kept with the link's own question). All checked before any write."""
    form = request.form
    step = "details" if form.get("step") == "details" else "score"
    raw_comment = form.get("comment") if step == "details" else None
    try:
        scores = {SurveyKind(k): parse_score(SurveyKind(k), form[k]) for k in invitation.kinds
                  if form.get(k, "").strip()}
        comment = clean_comment(raw_comment)
    except InvalidAnswer as exc:
        message = (i18n.gettext(locale, TOO_LONG, max=MAX_COMMENT) if exc.field == "comment"
                   else i18n.gettext(locale, OFF_SCALE))
        return _form(shop, invitation, order, locale, branding, status=422, error=message, comment=raw_comment)
    stored, _comment = _answers(shop, invitation)
    answered = [k for k in map(SurveyKind, invitation.kinds) if k in scores or k.value in stored]
    holder = kind if kind in answered else next(iter(answered), None)
    if (not scores and comment is None) or (comment is not None and holder is None):
        return _form(shop, invitation, order, locale, branding, status=422, comment=raw_comment,
                     error=i18n.gettext(locale, NO_SCORE))
    if comment is not None and holder not in scores:
        scores[holder] = stored[holder.value]  # a comment alone keeps its question's score
    session = get_session()
    low = []
    try:
        for asked, value in scores.items():
            if record_answer(session, shop, invitation, asked, value, comment if asked == holder else None):
                low.append(asked.value)
        alerts.queue(session, shop, invitation, low, commented=comment is not None, now=utcnow())
        session.commit()
    except AnswerRefused as exc:  # expired or erased since the page was opened
        session.rollback()
        return _refuse(410, "expired" if exc.reason == "expired" else "gone", locale, **branding)
    return _form(shop, invitation, order, locale, branding, saved=step)
