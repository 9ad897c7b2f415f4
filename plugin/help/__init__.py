"""Help that carries its context: the merchant's answers that fit an order
(answers.py), then a person: a shopper's contact request recorded and sent
to the shop's support address with the order's state (contacts.py).

Callers use ``fitting``, ``order_states``, ``contact``, ``Refused`` and
``contact_rate`` (contacts per 100 orders, for the dashboard).
"""

from .answers import fitting, order_states
from .contacts import KIND, MAX_MESSAGE, Refused, contact, render_support_contact
from .metrics import contact_rate

__all__ = ["KIND", "contact_rate", "fitting", "order_states", "contact", "Refused", "MAX_MESSAGE", "render_support_contact"]
