"""SMS through a Twilio-style API (a local stand-in on 127.0.0.1), only to
valid international numbers, and only when configured."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugin.config import ConfigError, load_config
from plugin.models import WebhookDelivery

from ...conftest import db, environ
from .conftest import JON, fulfillment, order, outbox, received, set_settings

PHONE = "+16502530000"
SENDER = "+15005550006"


class SmsApi:
    """Answers like Twilio's Messages.json and keeps what it was sent."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 201

    def __call__(self, environ, start_response):
        request = Request(environ)
        auth = request.authorization
        self.received.append({"path": request.path, "auth": (auth.username, auth.password) if auth else None,
                              **request.form.to_dict()})
        body = {"sid": "SM1", "status": "queued"} if self.status < 300 else {
            "code": 21211, "message": f"The 'To' number {request.form.get('To')} is not a valid phone number."}
        return Response(json.dumps(body), status=self.status, mimetype="application/json")(environ, start_response)


@pytest.fixture
def sms_api(app, monkeypatch):
    api = SmsApi()
    server = make_server("127.0.0.1", 0, api, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = load_config({**environ("sqlite://"), "AFTERCARE_SMS_FROM": SENDER,
                          "AFTERCARE_SMS_URL": f"http://AC123:s3cret@127.0.0.1:{server.server_port}"
                                               "/2010-04-01/Accounts/AC123/Messages.json"}, "/nonexistent")
    monkeypatch.setitem(app.config, "SMS_URL", config["SMS_URL"])
    monkeypatch.setitem(app.config, "SMS_FROM", config["SMS_FROM"])
    yield api
    server.shutdown()


def shipped_with_phone(app, shop, webhooks, run_worker, phone) -> None:
    set_settings(app, shop, notifications__shipped__sms=True)
    webhooks.post("orders/create", order(phone=phone))
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()


def test_an_sms_goes_to_a_valid_number(app, shop, webhooks, run_worker, smtp, sms_api):
    shipped_with_phone(app, shop, webhooks, run_worker, "+1 650-253-0000")
    [sms] = sms_api.received
    assert sms["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert (sms["auth"], sms["To"], sms["From"]) == (("AC123", "s3cret"), PHONE, SENDER)
    assert sms["Body"]
    assert received(smtp) == [(JON, "shipped")]
    assert sorted((n.channel, n.recipient, n.status) for n in outbox()) == [
        ("email", JON, "sent"), ("sms", PHONE, "sent")]


@pytest.mark.parametrize("phone", ["555-555-SHIP", "+15551234567", "0612345678", None])
def test_an_invalid_phone_gets_no_sms_and_no_error(app, shop, webhooks, run_worker, smtp, sms_api, phone):
    shipped_with_phone(app, shop, webhooks, run_worker, phone)
    assert sms_api.received == []
    assert [n.channel for n in outbox()] == ["email"]
    assert received(smtp) == [(JON, "shipped")]
    assert all(d.status == "processed" for d in db().scalars(select(WebhookDelivery)))


def test_without_an_sms_api_no_sms_is_decided(app, shop, webhooks, run_worker, smtp):
    assert app.config["SMS_URL"] is None
    shipped_with_phone(app, shop, webhooks, run_worker, PHONE)
    assert [n.channel for n in outbox()] == ["email"]


def test_a_refused_sms_fails_with_the_code_but_not_the_number(app, shop, webhooks, run_worker, smtp, sms_api):
    sms_api.status = 400
    shipped_with_phone(app, shop, webhooks, run_worker, PHONE)
    sms = next(n for n in outbox() if n.channel == "sms")
    assert (sms.status, sms.error) == ("failed", "PermanentSmsError: SMS API refused (400, code 21211)")
    assert len(sms_api.received) == 1


def test_an_sms_api_outage_is_retried(app, shop, webhooks, run_worker, smtp, sms_api):
    sms_api.status = 503
    shipped_with_phone(app, shop, webhooks, run_worker, PHONE)
    sms = next(n for n in outbox() if n.channel == "sms")
    assert (sms.status, sms.attempts) == ("pending", 1) and "503" in sms.error


@pytest.mark.parametrize("variables,named", [
    ({"AFTERCARE_SMS_URL": "https://api.example.com/Messages.json", "AFTERCARE_SMS_FROM": SENDER}, "AFTERCARE_SMS_URL"),
    ({"AFTERCARE_SMS_URL": "http://AC1:tok@api.example.com/Messages.json", "AFTERCARE_SMS_FROM": SENDER}, "AFTERCARE_SMS_URL"),
    ({"AFTERCARE_SMS_URL": "https://AC1:tok@api.example.com/Messages.json"}, "AFTERCARE_SMS_FROM"),
    ({"AFTERCARE_SMS_URL": "https://AC1:tok@api.example.com/Messages.json", "AFTERCARE_SMS_FROM": "555 SHIP now!"},
     "AFTERCARE_SMS_FROM"),
])
def test_a_bad_sms_setting_names_its_variable(tmp_path, variables, named):
    with pytest.raises(ConfigError) as caught:
        load_config({**environ("sqlite://"), **variables}, str(tmp_path))
    assert caught.value.variable == named and "\n" not in str(caught.value)
    assert "tok" not in str(caught.value)
