"""What each settings page shows: its groups of fields, in order.

One description serves the template (label, help, kind of control) and the
page's script (each control's ``data-key`` and ``data-type`` tell it how to
turn the control back into the JSON value `PUT /api/admin/settings` takes).
The checks themselves stay in ``plugin.settings``: the page never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import settings
from ..notifications.kinds import CHANNELS, Kind


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    type: str  # switch | number | text | email | url | color | choice | multi | answers
    help: str | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    min: int | None = None
    max: int | None = None
    placeholder: str | None = None

    @property
    def id(self) -> str:
        return "f-" + self.key.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Group:
    title: str | None
    fields: tuple[Field, ...]
    description: str | None = None
    channels: bool = False  # a kind's email and SMS switches, side by side
    family: str | None = None  # channel groups are shown under their family's heading


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    summary: str
    groups: tuple[Group, ...] = field(default=())


KIND_LABELS = {
    Kind.ORDER_CONFIRMED: "Order confirmed",
    Kind.SHIPPED: "Shipped",
    Kind.OUT_FOR_DELIVERY: "Out for delivery",
    Kind.DELIVERED: "Delivered",
    Kind.ATTEMPTED_DELIVERY: "Delivery attempted",
    Kind.READY_FOR_PICKUP: "Ready for pickup",
    Kind.DELIVERY_FAILED: "Delivery failed",
    Kind.DELAYED: "Delayed",
    Kind.RETURN_REQUESTED: "Return requested",
    Kind.RETURN_APPROVED: "Return approved",
    Kind.RETURN_DECLINED: "Return declined",
    Kind.RETURN_REFUNDED: "Return refunded",
    Kind.SURVEY: "Survey invitation",
}
RETURNS_NOTE = ("Sent to every customer who asks for a return, even one who unsubscribed from shipping "
                "updates: these messages answer their own request.")
CHANNEL_LABELS = {"email": "Email", "sms": "SMS"}
REASON_LABELS = {
    "COLOR": "Color", "DEFECTIVE": "Defective", "NOT_AS_DESCRIBED": "Not as described", "OTHER": "Other",
    "SIZE_TOO_LARGE": "Too large", "SIZE_TOO_SMALL": "Too small", "STYLE": "Style", "UNWANTED": "Unwanted",
    "WRONG_ITEM": "Wrong item",
}
STATE_LABELS = {
    "ordered": "ordered", "shipped": "shipped", "in_transit": "in transit", "out_for_delivery": "out for delivery",
    "delivered": "delivered", "delayed": "delayed", "failed": "failed", "returning": "returning",
}
SURVEY_LABELS = {"csat": "CSAT (satisfaction)", "ces": "CES (effort)", "nps": "NPS (recommendation)"}


def _channels(kind: Kind) -> Group:
    return Group(KIND_LABELS[kind], tuple(
        Field(f"notifications.{kind.value}.{channel}", CHANNEL_LABELS[channel], "switch") for channel in CHANNELS
    ), channels=True,
        family="Return updates" if kind.is_return else "Surveys" if kind.is_survey else "Shipping updates",
        description=RETURNS_NOTE if kind.is_return else None)


SECTIONS: tuple[Section, ...] = (
    Section("notifications", "Notifications", "Which messages customers get, on which channel, and when.", (
        *(_channels(kind) for kind in Kind),
        Group("Timing", (
            Field("notifications.quiet_hours", "Quiet hours", "text", placeholder="21:00-08:00",
                  help="No messages in this time range, in your shop's time zone. "
                       "Example: 21:00-08:00. Leave empty for none."),
            Field("notifications.delay_grace_hours", "Delay grace (hours)", "number", min=0, max=720,
                  help="How late a parcel may be before the customer is told it is delayed."),
            Field("notifications.stalled_days", "Stalled after (days)", "number", min=1, max=60,
                  help="Days without a tracking update before a parcel counts as stalled."),
        )),
    )),
    Section("surveys", "Surveys", "Which surveys go out after delivery, and how often.", (
        Group(None, (
            Field("survey.kinds", "Survey kinds", "multi",
                  choices=tuple((k, SURVEY_LABELS[k]) for k in settings.SURVEY_KINDS)),
            Field("survey.delay_hours", "Send after delivery (hours)", "number", min=1, max=720),
            Field("survey.after_return", "Survey after a return too", "switch"),
            Field("survey.cap_days", "At most one survey per customer every (days)", "number", min=0, max=365,
                  help="0 means no limit."),
            Field("alerts.low_score_email", "Low-score alert address", "email", placeholder="support@example.com",
                  help="Where to send an email when a customer gives a low score. Leave empty for none."),
        )),
    )),
    Section("returns", "Returns policy", "How long customers can return items, and the help they see.", (
        Group(None, (
            Field("returns.window_days", "Return window (days)", "number", min=0, max=365),
            Field("returns.window_starts", "The window starts when the order is", "choice",
                  choices=tuple((s, s) for s in settings.WINDOW_STARTS)),
            Field("returns.reasons", "Reasons customers can choose", "multi",
                  choices=tuple((r, REASON_LABELS[r]) for r in settings.RETURN_REASONS)),
            Field("returns.final_sale_tag", "Final-sale tag", "text",
                  help="Products with this tag cannot be returned. Leave empty for none."),
            Field("help.support_email", "Support email", "email", placeholder="support@example.com"),
        )),
        Group("Help answers", (
            Field("help.answers", "Help answers", "answers",
                  choices=tuple((s, STATE_LABELS[s]) for s in settings.ORDER_STATES)),
        ), description="Answers the widget shows customers before they contact you."),
    )),
    Section("branding", "Branding", "Your logo, colour and sender details on every message.", (
        Group(None, (
            Field("branding.logo_url", "Logo URL", "url", placeholder="https://",
                  help="An https:// address of your logo image."),
            Field("branding.color", "Brand colour", "color"),
            Field("mail.from", "Sender name", "text"),
            Field("mail.reply_to", "Reply-to address", "email", placeholder="support@example.com",
                  help="Where customers' replies go. Leave empty to use the sender."),
        )),
    )),
)

BY_SLUG = {section.slug: section for section in SECTIONS}
