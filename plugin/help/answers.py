"""Which of the merchant's help answers (setting ``help.answers``) fit an
order as the shopper sees it.

An answer names the order states it fits (none: every state) and a locale
(none: every locale). The states of an order are read from its view
(plugin.tracking.view), one or more per parcel, so a split order with one
parcel delivered and one delayed gets the answers of both.
"""

from __future__ import annotations

from collections.abc import Iterable

# A parcel's status beyond its step: (status, the state it adds)
_EXTRA_STATES = {
    "delayed": "delayed",
    "failure": "failed",
    "returning_to_sender": "returning",
}


def order_states(view: dict) -> set[str]:
    """The states (settings.ORDER_STATES) an order view is in."""
    parcels = view.get("parcels") or []
    if not parcels:
        return {"ordered"}
    states: set[str] = set()
    for parcel in parcels:
        states.add(parcel["stage"])
        extra = _EXTRA_STATES.get(parcel.get("status") or "")
        if extra:
            states.add(extra)
        if parcel.get("exception") in ("failure", "returning_to_sender"):
            states.add("failed")
    if view.get("not_yet_shipped"):
        states.add("ordered")
    return states


def fitting(answers: Iterable[dict], view: dict) -> list[dict]:
    """The answers that fit the view's states and locale, in the merchant's
    order, as ``{"question", "answer"}``."""
    states = order_states(view)
    locale = view.get("locale")
    return [{"question": a["question"], "answer": a["answer"]} for a in answers
            if (not a.get("states") or states & set(a["states"]))
            and (not a.get("locale") or a["locale"] == locale)]
