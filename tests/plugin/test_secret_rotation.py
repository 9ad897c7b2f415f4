"""AFTERCARE_SECRET_KEY can be rotated: what was stored under the old key
still works while AFTERCARE_SECRET_KEY_PREVIOUS names it."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from itsdangerous import BadSignature
from sqlalchemy import select

from plugin import create_app, crypto, shops
from plugin.db import engine, get_session
from plugin.models import Shop

from ..conftest import SHOP, environ

NEW_KEY = "the-new-key-after-rotation-0123456789abcdef"


@contextmanager
def restarted(app, **keys):
    """The app as it starts again on the same database with other keys."""
    env = {**environ(app.config["DATABASE_URL"]), **keys}
    again = create_app({"TESTING": True}, environ=env, instance_path=app.instance_path)
    try:
        with again.app_context():
            yield again
    finally:
        engine(again).dispose()


def test_tokens_stored_under_the_previous_key_still_decrypt(app, shop):
    old_key = app.config["SECRET_KEY"]
    with restarted(app, AFTERCARE_SECRET_KEY=NEW_KEY, AFTERCARE_SECRET_KEY_PREVIOUS=old_key) as again:
        assert again.config["SECRET_KEY_PREVIOUS"] == old_key  # for signed links too
        row = get_session().scalar(select(Shop).where(Shop.domain == SHOP))
        assert shops.access_token(row) == "shpat_test_token"
        shops.store_grant(row, shops.static_grant("shpat_next_token"))  # stored again: under the new key
        assert crypto.decrypt(NEW_KEY, row.access_token) == "shpat_next_token"

    with restarted(app, AFTERCARE_SECRET_KEY=NEW_KEY) as again:  # the old key removed
        row = get_session().scalar(select(Shop).where(Shop.domain == SHOP))
        with pytest.raises(crypto.DecryptionError):
            shops.access_token(row)  # stored under the old key only, never re-stored


def test_an_oauth_state_signed_under_the_previous_key_is_still_accepted(app):
    from plugin import auth

    issued = auth._state_serializer().dumps({"nonce": "n", "shop": SHOP})  # before the rotation
    old_key = app.config["SECRET_KEY"]
    with restarted(app, AFTERCARE_SECRET_KEY=NEW_KEY, AFTERCARE_SECRET_KEY_PREVIOUS=old_key):
        assert auth._state_serializer().loads(issued, max_age=60) == {"nonce": "n", "shop": SHOP}
    with restarted(app, AFTERCARE_SECRET_KEY=NEW_KEY):
        with pytest.raises(BadSignature):
            auth._state_serializer().loads(issued, max_age=60)
