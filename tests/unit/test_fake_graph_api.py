"""The fake Graph API speaks the WhatsApp Cloud API: real HTTP, Meta's request shapes, answers and errors."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.common.clock import FrozenClock
from tests.fakes.graph_api import (
    DEFAULT_BUSINESS,
    ERROR_CODES_URL,
    Business,
    FakeGraphApi,
    MediaFile,
    SentMessage,
    encode_payload,
    graph_error_of,
    inbound_audio,
    inbound_button_reply,
    inbound_document,
    inbound_image,
    inbound_list_reply,
    inbound_text,
    sign,
    status_error,
    status_update,
)
from tests.fakes.telegram_api import serve_asgi

TOKEN = "EAAG-test-token"
SECRET = "app-secret-for-tests"
USER = "32470123456"
OTHER = "32470999888"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last replied to this "
    "number."
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def api(clock: FrozenClock) -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi(TOKEN, clock=clock.now, app_secret=SECRET) as fake:
        yield fake


@pytest.fixture
async def client(api: FakeGraphApi) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=api.graph_url, headers=headers, trust_env=False) as http:
        yield http


def message(kind: str, content: dict[str, Any], to: str = USER, **more: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
        **more,
    }


def text(body: str = "Bonjour !", to: str = USER) -> dict[str, Any]:
    return message("text", {"body": body, "preview_url": False}, to)


def buttons(*choices: tuple[str, str], body: str = "Votre choix ?") -> dict[str, Any]:
    action = {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in choices]}
    return message("interactive", {"type": "button", "body": {"text": body}, "action": action})


def rows(count: int, *, start: int = 0, **more: Any) -> list[dict[str, Any]]:
    return [{"id": f"row-{n}", "title": f"Choix {n}", **more} for n in range(start, start + count)]


def a_list(*sections: dict[str, Any], button: str = "Voir", body: str = "Choisissez") -> dict[str, Any]:
    action = {"button": button, "sections": list(sections)}
    return message("interactive", {"type": "list", "body": {"text": body}, "action": action})


def template(name: str = "cisp_message", *parameters: str, language: str = "fr") -> dict[str, Any]:
    content: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        content["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    return message("template", content)


async def post(client: httpx.AsyncClient, api: FakeGraphApi, payload: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/{api.phone_number_id}/messages", json=payload)


def value_of(payload: dict[str, Any]) -> dict[str, Any]:
    [entry] = payload["entry"]
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value: dict[str, Any] = change["value"]
    return value


# --------------------------------------------------------------------------- sending


async def test_a_text_is_accepted_answered_and_recorded(
    api: FakeGraphApi, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    api.user_wrote(USER)
    clock.advance(timedelta(minutes=3))

    response = await post(client, api, text("Bonjour Samira"))

    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": USER, "wa_id": USER}]
    [sent] = api.sent_to(USER)
    assert body["messages"] == [{"id": sent.wamid}]
    assert re.fullmatch(r"wamid\.[A-Za-z0-9+/=]+", sent.wamid)
    assert (sent.to, sent.type, sent.text) == (USER, "text", "Bonjour Samira")
    assert sent.payload == text("Bonjour Samira")
    assert sent.at == START + timedelta(minutes=3)
    assert api.all_sent() == [sent]
    assert api.message(sent.wamid) is sent
    assert api.requests[-1].body == text("Bonjour Samira")


async def test_each_message_gets_its_own_wamid(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    api.user_wrote(USER)
    for n in range(5):
        assert (await post(client, api, text(f"n°{n}"))).status_code == 200
    wamids = [m.wamid for m in api.sent_to(USER)]
    assert len(set(wamids)) == 5


async def test_the_recipient_is_normalised_to_its_wa_id(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    api.user_wrote(USER)
    response = await post(client, api, text(to="+32 470 12 34 56"))
    assert response.json()["contacts"] == [{"input": "+32 470 12 34 56", "wa_id": USER}]
    assert [m.to for m in api.sent_to(USER)] == [USER]


async def test_reply_buttons_and_lists_at_their_limits_are_accepted(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER)
    three = buttons(("a", "x" * 20), ("b", "Non"), ("c" * 256, "Peut-être"), body="b" * 1024)
    ten_rows = a_list(
        {"title": "t" * 24, "rows": rows(6, description="d" * 72)},
        {"title": "Autres", "rows": rows(4, start=6)},
        button="y" * 20,
        body="z" * 4096,
    )

    for payload in (three, ten_rows, text("x" * 4096)):
        response = await post(client, api, payload)
        assert response.status_code == 200, response.json()

    sent_buttons, sent_list, _ = api.sent_to(USER)
    assert sent_buttons.interactive_type == "button"
    assert sent_buttons.choice_ids == ["a", "b", "c" * 256]
    assert sent_list.interactive_type == "list"
    assert sent_list.choice_ids == [f"row-{n}" for n in range(10)]
    assert sent_list.choices[0] == {"id": "row-0", "title": "Choix 0", "description": "d" * 72}


async def test_a_form_encoded_request_is_read_like_graph_does(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER)
    form = {"messaging_product": "whatsapp", "to": USER, "type": "text", "text": '{"body": "Salut"}'}
    response = await client.post(f"/{api.phone_number_id}/messages", data=form)
    assert response.status_code == 200
    assert api.sent_to(USER)[0].text == "Salut"


async def test_a_read_receipt_is_taken_even_outside_the_window(
    api: FakeGraphApi, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    inbound = api.user_sends(USER, "Bonjour")
    wamid = value_of(inbound)["messages"][0]["id"]
    clock.advance(timedelta(days=3))

    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    response = await client.post(f"/{api.phone_number_id}/messages", json=receipt)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert api.read_receipts == [wamid]
    assert api.all_sent() == []
    unknown = await client.post(
        f"/{api.phone_number_id}/messages", json=receipt | {"message_id": "wamid.nope"}
    )
    assert unknown.status_code == 400


# --------------------------------------------------------------------------- authentication and paths


async def test_a_wrong_token_is_refused_with_401(api: FakeGraphApi) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        wrong = await http.post(
            api.messages_url, json=text(), headers={"Authorization": "Bearer EAAG-stolen"}
        )
        missing = await http.post(api.messages_url, json=text())
        by_query = await http.post(api.messages_url, json=text(), params={"access_token": TOKEN})

    assert wrong.status_code == 401
    error = graph_error_of(wrong)
    assert error["code"] == 190
    assert error["type"] == "OAuthException"
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]
    assert missing.status_code == 401
    assert graph_error_of(missing)["code"] == 2500
    # The token is checked before anything else: the window refusal comes only with the right token.
    assert by_query.status_code == 400
    assert graph_error_of(by_query)["code"] == 131047
    assert api.all_sent() == []


async def test_another_phone_number_id_does_not_exist(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    response = await client.post("/999999999/messages", json=text())
    assert response.status_code == 400
    error = graph_error_of(response)
    assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")
    assert error["message"].startswith("Unsupported post request. Object with ID '999999999' does not exist")


# --------------------------------------------------------------------------- the customer-service window


async def test_free_form_to_a_user_never_seen_is_refused_as_meta_does(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    response = await post(client, api, text())

    assert response.status_code == 400
    assert response.json()["error"] | {"fbtrace_id": "x"} == {
        "message": "(#131047) Re-engagement message",
        "type": "OAuthException",
        "code": 131047,
        "error_data": {"messaging_product": "whatsapp", "details": WINDOW_DETAILS},
        "fbtrace_id": "x",
    }
    assert api.sent_to(USER) == []
    assert api.errors[-1].code == 131047


async def test_the_window_lasts_24_hours_from_the_last_user_message(
    api: FakeGraphApi, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    api.user_sends(USER, "Bonjour")  # building an inbound message opens the window
    assert api.last_inbound(USER) == START

    clock.advance(timedelta(hours=23, minutes=59, seconds=59))
    assert (await post(client, api, text("encore dans la fenêtre"))).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert not api.in_window(USER)
    for payload in (text(), buttons(("a", "Oui")), a_list({"rows": rows(1)})):
        refused = await post(client, api, payload)
        assert graph_error_of(refused)["code"] == 131047
    assert (await post(client, api, template())).status_code == 200  # templates always go

    api.user_wrote(USER)  # the user answers: the window opens again
    assert (await post(client, api, text("merci"))).status_code == 200
    assert [m.type for m in api.sent_to(USER)] == ["text", "template", "text"]


async def test_an_older_message_does_not_move_the_window_back(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER, at=START - timedelta(hours=1))
    api.user_wrote(USER, at=START - timedelta(hours=30))
    assert api.last_inbound(USER) == START - timedelta(hours=1)
    api.user_wrote(OTHER, at=START - timedelta(hours=25))
    assert (await post(client, api, text(to=USER))).status_code == 200
    assert graph_error_of(await post(client, api, text(to=OTHER)))["code"] == 131047


async def test_media_to_a_user_outside_the_window_is_refused(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    media_id = api.add_media(b"%PDF", "application/pdf")
    response = await post(client, api, message("document", {"id": media_id, "filename": "a.pdf"}))
    assert graph_error_of(response)["code"] == 131047


async def test_the_window_can_be_reported_in_a_failed_status_instead(clock: FrozenClock) -> None:
    async with FakeGraphApi(TOKEN, clock=clock.now, window_refusal="status") as api:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as http:
            response = await http.post(api.messages_url, json=text())

        assert response.status_code == 200
        [failed] = api.failed_messages()
        assert response.json()["messages"] == [{"id": failed.wamid}]
        assert failed.failed
        assert api.sent_to(USER) == [] and api.all_sent() == []
        assert api.all_sent(include_failed=True) == [failed]
        [status] = value_of(api.status_of(failed))["statuses"]
        assert status["status"] == "failed"
        assert status["recipient_id"] == USER
        assert status["errors"] == [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": WINDOW_DETAILS},
                "href": ERROR_CODES_URL,
            }
        ]


# --------------------------------------------------------------------------- validation


def _long_button() -> dict[str, Any]:
    return buttons(("a", "x" * 21))


VALIDATION_CASES = [
    pytest.param(
        text("x" * 4097),
        100,
        "(#100) Param text['body'] must be at most 4096 characters long.",
        "Param text['body'] must be at most 4096 characters long.",
        id="text-too-long",
    ),
    pytest.param(text(""), 100, "(#100) Param text['body'] is required.", None, id="text-empty"),
    pytest.param(
        {k: v for k, v in text().items() if k != "messaging_product"},
        100,
        "(#100) The parameter messaging_product is required.",
        None,
        id="no-messaging-product",
    ),
    pytest.param(
        _long_button(),
        131009,
        "(#131009) Parameter value is not valid",
        "Button title length invalid. Min length: 1, Max length: 20",
        id="button-title-21",
    ),
    pytest.param(
        buttons(("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")),
        131009,
        None,
        "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3",
        id="four-buttons",
    ),
    pytest.param(buttons(), 131009, None, "Invalid buttons count", id="no-button"),
    pytest.param(buttons(("a", "Oui"), ("a", "Non")), 131009, None, "Button id must be unique", id="same-id"),
    pytest.param(
        buttons(("a", "Oui"), ("b", "Oui")), 131009, None, "Button title must be unique", id="same-title"
    ),
    pytest.param(
        buttons(("x" * 257, "Oui")),
        100,
        "(#100) Param interactive['action']['buttons'][0]['reply']['id'] must be at most 256 characters "
        "long.",
        None,
        id="button-id-257",
    ),
    pytest.param(
        buttons(("a", "Oui"), body="b" * 1025),
        100,
        "(#100) Param interactive['body']['text'] must be at most 1024 characters long.",
        None,
        id="button-body-1025",
    ),
    pytest.param(
        a_list({"rows": rows(11)}),
        131009,
        None,
        "Total row count exceed max allowed count: 10",
        id="eleven-rows",
    ),
    pytest.param(
        a_list({"title": "A", "rows": rows(6)}, {"title": "B", "rows": rows(5, start=6)}),
        131009,
        None,
        "Total row count exceed max allowed count: 10",
        id="eleven-rows-in-two-sections",
    ),
    pytest.param(
        a_list({"rows": [{"id": "r", "title": "t" * 25}]}),
        131009,
        None,
        "Row title length invalid. Min length: 1, Max length: 24",
        id="row-title-25",
    ),
    pytest.param(
        a_list({"rows": rows(1, description="d" * 73)}),
        131009,
        None,
        "Row description length invalid. Max length: 72",
        id="row-description-73",
    ),
    pytest.param(
        a_list({"rows": rows(1)}, button="b" * 21),
        131009,
        None,
        "Button text length invalid. Min length: 1, Max length: 20",
        id="list-button-21",
    ),
    pytest.param(
        a_list({"rows": rows(1)}, {"rows": rows(1, start=1)}),
        131009,
        None,
        "Section title is required",
        id="untitled-sections",
    ),
    pytest.param(
        a_list({"rows": [{"id": "r", "title": "Un"}, {"id": "r", "title": "Deux"}]}),
        131009,
        None,
        "Row id must be unique",
        id="same-row-id",
    ),
    pytest.param(
        message("template", {"name": "cisp_message"}),
        100,
        "(#100) Param template['language'] is required.",
        None,
        id="template-without-language",
    ),
    pytest.param(
        template("cisp_message", "ligne 1\nligne 2"),
        132018,
        "(#132018) There was an issue with the parameters in your template.",
        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        id="template-parameter-newline",
    ),
    pytest.param(
        message("image", {"link": "https://example.org/a.png", "id": "1"}),
        100,
        None,
        "Param image must have exactly one of 'id' or 'link'.",
        id="media-id-and-link",
    ),
    pytest.param(
        message("audio", {"id": "424242"}),
        100,
        None,
        "Param audio['id'] is not a valid media id: '424242'.",
        id="unknown-media-id",
    ),
    pytest.param(
        message("audio", {"link": "https://example.org/a.ogg", "caption": "x"}),
        100,
        None,
        "Param audio['caption'] is not allowed for audio messages.",
        id="audio-caption",
    ),
    pytest.param(
        message("image", {"link": "https://example.org/a.png", "caption": "c" * 1025}),
        100,
        "(#100) Param image['caption'] must be at most 1024 characters long.",
        None,
        id="caption-1025",
    ),
    pytest.param(message("location", {"latitude": 50.8}), 100, None, "not supported", id="unsupported-type"),
    pytest.param(text(to="abc"), 100, None, "Invalid WhatsApp user phone number", id="bad-recipient"),
]


@pytest.mark.parametrize(("payload", "code", "message_text", "details"), VALIDATION_CASES)
async def test_invalid_requests_are_refused_in_graphs_format(
    api: FakeGraphApi,
    client: httpx.AsyncClient,
    payload: dict[str, Any],
    code: int,
    message_text: str | None,
    details: str | None,
) -> None:
    api.user_wrote(USER)

    response = await post(client, api, payload)

    assert response.status_code == 400
    error = graph_error_of(response)
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["fbtrace_id"]
    if message_text is not None:
        assert error["message"] == message_text
    if details is not None:
        assert details in error["error_data"]["details"]
    assert api.all_sent(include_failed=True) == []
    assert api.errors[-1].code == code


async def test_approved_templates_are_checked_once_some_are_declared(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    assert (await post(client, api, template("anything_goes"))).status_code == 200  # none declared yet
    api.add_template("cisp_message", "fr", body_parameters=1)

    unknown = graph_error_of(await post(client, api, template("cisp_messages", "x")))
    other_language = graph_error_of(await post(client, api, template("cisp_message", "x", language="nl")))
    mismatch = graph_error_of(await post(client, api, template("cisp_message", "x", "y")))
    ok = await post(client, api, template("cisp_message", "Votre séance commence à 9 h."))

    assert (unknown["code"], unknown["error_data"]["details"]) == (
        132001,
        "template name (cisp_messages) does not exist in fr",
    )
    assert other_language["code"] == 132001
    assert mismatch["code"] == 132000
    assert "(2) does not match the expected number of params (1)" in mismatch["error_data"]["details"]
    assert ok.json()["messages"][0]["message_status"] == "accepted"
    last = api.sent_to(USER)[-1]
    assert (last.template_name, last.template_parameters) == (
        "cisp_message",
        ["Votre séance commence à 9 h."],
    )


# --------------------------------------------------------------------------- error injection and limits


async def test_an_injected_rate_limit_refuses_the_next_send_only(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER)
    api.fail_next()

    refused = await post(client, api, text("un"))
    accepted = await post(client, api, text("deux"))

    # Meta's error table gives 400 for its throttling codes, not 429.
    assert refused.status_code == 400
    error = graph_error_of(refused)
    assert (error["code"], error["message"]) == (130429, "(#130429) Rate limit hit")
    assert error["error_data"]["details"] == "Cloud API message throughput has been reached."
    assert accepted.status_code == 200
    assert [m.text for m in api.sent_to(USER)] == ["deux"]


async def test_injected_pair_rate_limits_count_down_and_take_another_status(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER)
    api.fail_next(2, code=131056)
    api.fail_next(code=130429, http_status=429, details="slow down")

    answers = [await post(client, api, text(str(n))) for n in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 429, 200]
    pair = graph_error_of(answers[0])
    assert pair["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    assert (
        "too many messages sent from this phone number to the same phone number"
        in (pair["error_data"]["details"])
    )
    assert graph_error_of(answers[2])["error_data"]["details"] == "slow down"
    assert len(api.sent_to(USER)) == 1


async def test_an_injected_failure_waits_for_its_endpoint(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER)
    media_id = api.add_media(b"data", "image/png")
    api.fail_next(code=131000, endpoint="media")

    assert (await post(client, api, text())).status_code == 200
    failing = await client.get(f"/{media_id}")
    assert failing.status_code == 500
    assert graph_error_of(failing)["code"] == 131000
    assert (await client.get(f"/{media_id}")).status_code == 200


async def test_the_throughput_limit_refuses_sends_beyond_it(clock: FrozenClock) -> None:
    async with FakeGraphApi(TOKEN, clock=clock.now, max_messages_per_second=2) as api:
        api.user_wrote(USER)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as http:
            answers = [await http.post(api.messages_url, json=text(str(n))) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 400]
    assert graph_error_of(answers[2])["code"] == 130429


# --------------------------------------------------------------------------- media


async def test_media_is_described_then_downloaded_with_the_token(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    content = b"OggS\x00 a voice note"
    media_id = api.add_media(content, "audio/ogg")

    described = await client.get(f"/{media_id}", params={"phone_number_id": api.phone_number_id})

    assert described.status_code == 200
    info = described.json()
    assert info == {
        "url": info["url"],
        "mime_type": "audio/ogg",
        "sha256": hashlib.sha256(content).hexdigest(),
        "file_size": len(content),
        "id": media_id,
        "messaging_product": "whatsapp",
    }
    async with httpx.AsyncClient(trust_env=False) as http:
        downloaded = await http.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"})
        anonymous = await http.get(info["url"])
    assert downloaded.status_code == 200
    assert downloaded.content == content
    assert downloaded.headers["content-type"].startswith("audio/ogg")
    assert anonymous.status_code == 401


async def test_a_media_url_expires_after_five_minutes(
    api: FakeGraphApi, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    media_id = api.add_media(b"bytes", "image/jpeg")
    url = (await client.get(f"/{media_id}")).json()["url"]

    clock.advance(timedelta(minutes=5, seconds=1))

    assert (await client.get(url)).status_code == 404
    fresh = (await client.get(f"/{media_id}")).json()["url"]
    assert (await client.get(fresh)).content == b"bytes"
    assert (await client.get(fresh.replace("hash=", "hash=0"))).status_code == 404


async def test_unknown_or_foreign_media_is_refused(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    media_id = api.add_media(b"x", "image/png")
    unknown = await client.get("/123456789")
    foreign = await client.get(f"/{media_id}", params={"phone_number_id": "42"})
    assert unknown.status_code == 400
    assert graph_error_of(unknown)["error_subcode"] == 33
    assert foreign.status_code == 400


async def test_media_is_uploaded_and_deleted(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    uploaded = await client.post(
        f"/{api.phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("planning.pdf", b"%PDF-1.7 planning", "application/pdf")},
    )
    assert uploaded.status_code == 200
    media_id = uploaded.json()["id"]
    assert api.media(media_id) == MediaFile(media_id, b"%PDF-1.7 planning", "application/pdf", "planning.pdf")

    without_product = await client.post(
        f"/{api.phone_number_id}/media", files={"file": ("a.pdf", b"x", "application/pdf")}
    )
    assert graph_error_of(without_product)["message"] == "(#100) The parameter messaging_product is required."

    deleted = await client.delete(f"/{media_id}")
    assert deleted.json() == {"success": True}
    assert (await client.get(f"/{media_id}")).status_code == 400


async def test_media_messages_by_id_or_link_are_recorded(
    api: FakeGraphApi, client: httpx.AsyncClient
) -> None:
    api.user_wrote(USER)
    media_id = api.add_media(b"%PDF", "application/pdf")
    payloads = [
        message("document", {"id": media_id, "filename": "horaire.pdf", "caption": "Votre horaire"}),
        message("image", {"link": "https://example.org/plan.png", "caption": "Le plan"}),
        message("audio", {"id": media_id}),
        message("video", {"link": "https://example.org/v.mp4"}),
    ]
    for payload in payloads:
        assert (await post(client, api, payload)).status_code == 200

    document, image, audio, video = api.sent_to(USER)
    assert document.media == {"id": media_id, "filename": "horaire.pdf", "caption": "Votre horaire"}
    assert document.text == "Votre horaire"
    assert image.media == {"link": "https://example.org/plan.png", "caption": "Le plan"}
    assert (audio.type, audio.text) == ("audio", None)
    assert video.type == "video"


# --------------------------------------------------------------------------- webhook payloads


def test_an_inbound_text_has_metas_shape() -> None:
    business = Business("111", "3225550199", "222")
    at = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)

    payload = inbound_text(USER, "Bonjour, à quelle heure ?", name="Samira B.", business=business, at=at)

    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == "222"
    value = value_of(payload)
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "3225550199", "phone_number_id": "111"}
    assert value["contacts"] == [{"profile": {"name": "Samira B."}, "wa_id": USER}]
    [received] = value["messages"]
    assert received == {
        "from": USER,
        "id": received["id"],
        "timestamp": str(int(at.timestamp())),
        "type": "text",
        "text": {"body": "Bonjour, à quelle heure ?"},
    }
    assert received["id"].startswith("wamid.")
    assert inbound_text(USER, "x")["entry"][0]["changes"][0]["value"]["messages"][0]["id"] != received["id"]


def test_button_and_list_replies_name_the_message_they_answer() -> None:
    pressed = value_of(inbound_button_reply(USER, "yes", "Oui", replied_to="wamid.BOT"))["messages"][0]
    picked = value_of(inbound_list_reply(USER, "row-2", "Mardi", "9 h - 12 h", replied_to="wamid.BOT"))
    [row] = picked["messages"]

    assert pressed["type"] == "interactive"
    assert pressed["context"] == {"from": DEFAULT_BUSINESS.display_phone_number, "id": "wamid.BOT"}
    assert pressed["interactive"] == {"type": "button_reply", "button_reply": {"id": "yes", "title": "Oui"}}
    assert row["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "row-2", "title": "Mardi", "description": "9 h - 12 h"},
    }
    assert (
        "description"
        not in value_of(inbound_list_reply(USER, "r", "t", replied_to="w"))["messages"][0]["interactive"][
            "list_reply"
        ]
    )


def test_media_messages_carry_id_mime_type_and_hash() -> None:
    voice = MediaFile("1001", b"OggS voice", "audio/ogg; codecs=opus")
    photo = MediaFile("1002", b"\xff\xd8 jpeg", "image/jpeg")
    pdf = MediaFile("1003", b"%PDF", "application/pdf", "attestation.pdf")

    audio = value_of(inbound_audio(USER, voice))["messages"][0]
    image = value_of(inbound_image(USER, photo, caption="Mon attestation"))["messages"][0]
    document = value_of(inbound_document(USER, pdf, caption="Voilà"))["messages"][0]

    assert audio["type"] == "audio"
    assert audio["audio"] == {
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": voice.sha256_base64,
        "id": "1001",
        "voice": True,
    }
    assert image["image"]["caption"] == "Mon attestation"
    assert image["image"]["id"] == "1002"
    assert document["document"] | {"sha256": ""} == {
        "mime_type": "application/pdf",
        "sha256": "",
        "id": "1003",
        "caption": "Voilà",
        "filename": "attestation.pdf",
    }
    assert value_of(inbound_audio(USER, voice, voice=False))["messages"][0]["audio"]["voice"] is False


def test_status_updates_have_metas_shape() -> None:
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    sent, delivered, read = (
        value_of(status_update("wamid.A", USER, status, at=at))["statuses"][0]
        for status in ("sent", "delivered", "read")
    )
    [failed] = value_of(status_update("wamid.A", USER, "failed", errors=[status_error(131026)]))["statuses"]

    assert sent == {
        "id": "wamid.A",
        "status": "sent",
        "timestamp": str(int(at.timestamp())),
        "recipient_id": USER,
        "pricing": {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        },
    }
    assert (delivered["status"], read["status"]) == ("delivered", "read")
    assert failed["status"] == "failed"
    assert "pricing" not in failed
    assert failed["errors"][0]["code"] == 131026
    assert failed["errors"][0]["title"] == "Message undeliverable"
    assert "messages" not in value_of(status_update("wamid.A", USER, "read"))


async def test_the_fakes_helpers_open_the_window_and_register_media(
    api: FakeGraphApi, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    voice = value_of(api.user_sends_voice(USER, b"OggS my question"))["messages"][0]
    clock.advance(timedelta(minutes=1))
    document = value_of(api.user_sends_document(OTHER, b"%PDF cert", filename="c.pdf"))["messages"][0]
    image = value_of(api.user_sends_image(OTHER, caption="photo"))["messages"][0]

    assert api.last_inbound(USER) == START
    assert api.last_inbound(OTHER) == START + timedelta(minutes=1)
    assert voice["audio"]["voice"] is True
    assert document["document"]["filename"] == "c.pdf"
    assert image["image"]["caption"] == "photo"
    info = (await client.get(f"/{voice['audio']['id']}")).json()
    assert (await client.get(info["url"])).content == b"OggS my question"
    assert (await client.get(voice["audio"]["url"])).content == b"OggS my question"


async def test_a_user_presses_only_what_the_bot_showed(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    api.user_sends(USER, "menu")
    await post(client, api, buttons(("yes", "Oui"), ("no", "Non")))
    await post(client, api, a_list({"rows": rows(2, description="créneau")}))
    shown, listed = api.sent_to(USER)

    pressed = value_of(api.user_presses(USER, shown, "no"))["messages"][0]
    picked = value_of(api.user_picks(USER, listed.wamid, "row-1"))["messages"][0]

    assert pressed["interactive"]["button_reply"] == {"id": "no", "title": "Non"}
    assert pressed["context"]["id"] == shown.wamid
    assert picked["interactive"]["list_reply"] == {
        "id": "row-1",
        "title": "Choix 1",
        "description": "créneau",
    }
    with pytest.raises(ValueError, match="no reply button 'maybe'"):
        api.user_presses(USER, shown, "maybe")
    with pytest.raises(ValueError, match="no list row"):
        api.user_picks(USER, shown, "yes")
    with pytest.raises(ValueError, match="sent no message"):
        api.user_presses(OTHER, shown, "yes")


async def test_status_of_a_recorded_message(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    api.user_wrote(USER)
    await post(client, api, text() | {"biz_opaque_callback_data": "push-17"})
    await post(client, api, template())
    sent, templated = api.sent_to(USER)

    [delivered] = value_of(api.status_of(sent))["statuses"]
    [read] = value_of(api.status_of(sent.wamid, "read"))["statuses"]
    [failed] = value_of(api.status_of(sent, "failed", error_code=131026))["statuses"]
    [template_sent] = value_of(api.status_of(templated, "sent"))["statuses"]

    assert (delivered["status"], delivered["id"], delivered["recipient_id"]) == (
        "delivered",
        sent.wamid,
        USER,
    )
    assert delivered["biz_opaque_callback_data"] == "push-17"
    assert read["status"] == "read"
    assert failed["errors"][0]["code"] == 131026
    assert template_sent["pricing"]["category"] == "utility"


# --------------------------------------------------------------------------- signing and delivery


def test_sign_gives_the_x_hub_signature_256_value() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == f"sha256={expected}"
    assert sign(b"", "secret") == "sha256=f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169"


def test_payloads_are_encoded_as_meta_sends_them() -> None:
    body = encode_payload({"text": {"body": "Séance à 9 h"}})
    assert body == b'{"text":{"body":"S\\u00e9ance \\u00e0 9 h"}}'


async def test_deliver_posts_a_signed_payload_to_the_webhook(api: FakeGraphApi) -> None:
    received: list[tuple[bytes, str | None]] = []

    async def webhook(request: Request) -> Response:
        body = await request.body()
        received.append((body, request.headers.get("x-hub-signature-256")))
        return Response(status_code=200)

    payload = api.user_sends(USER, "Réunion à 14 h ?")
    async with serve_asgi(Starlette(routes=[Route("/whatsapp", webhook, methods=["POST"])])) as root:
        ok = await api.deliver(f"{root}/whatsapp", payload)
        forged = await api.deliver(f"{root}/whatsapp", payload, signature="sha256=forged")
        unsigned = await api.deliver(f"{root}/whatsapp", payload, signature="")
        other_secret = await api.deliver(f"{root}/whatsapp", payload, app_secret="other")

    assert [ok, forged, unsigned, other_secret] == [200, 200, 200, 200]
    body, signature = received[0]
    assert body == encode_payload(payload)
    assert signature == sign(body, SECRET)
    assert received[1][1] == "sha256=forged"
    assert received[2][1] is None
    assert received[3][1] == sign(body, "other")
    assert api.deliveries == [(f"{root}/whatsapp", 200)] * 4


async def test_verify_webhook_makes_metas_handshake(api: FakeGraphApi) -> None:
    async def verify(request: Request) -> Response:
        query = request.query_params
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == "verify-me":
            return PlainTextResponse(query.get("hub.challenge", ""))
        return Response(status_code=403)

    async with serve_asgi(Starlette(routes=[Route("/whatsapp", verify, methods=["GET"])])) as root:
        good = await api.verify_webhook(f"{root}/whatsapp", "verify-me", challenge="8675309")
        bad = await api.verify_webhook(f"{root}/whatsapp", "wrong")

    assert (good.status_code, good.text) == (200, "8675309")
    assert bad.status_code == 403


# --------------------------------------------------------------------------- waiting and lifecycle


async def test_wait_for_messages_counts_from_the_mark(api: FakeGraphApi, client: httpx.AsyncClient) -> None:
    api.user_wrote(USER)
    await post(client, api, text("avant"))
    api.mark()

    async def later() -> None:
        await asyncio.sleep(0.05)
        await post(client, api, text("un"))
        await post(client, api, text("deux"))

    task = asyncio.create_task(later())
    got = await api.wait_for_messages(USER, 2, timeout=2)
    await task

    assert [m.text for m in got] == ["un", "deux"]
    with pytest.raises(AssertionError, match=r"expected 3 message\(s\) to 32470123456") as raised:
        await api.wait_for_messages(USER, 3, timeout=0.05)
    assert "'deux'" in str(raised.value)
    await api.wait_until(lambda: len(api.sent_to(USER)) == 3, timeout=0.1)


async def test_wait_for_messages_ignores_failed_messages(clock: FrozenClock) -> None:
    async with FakeGraphApi(TOKEN, clock=clock.now, window_refusal="status") as api:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as http:
            await http.post(api.messages_url, json=text())
        with pytest.raises(AssertionError, match="refusals"):
            await api.wait_for_messages(USER, 1, timeout=0.05)


def test_the_fake_also_runs_in_its_own_thread() -> None:
    with FakeGraphApi(TOKEN) as api:
        api.user_wrote(USER)
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as http:
            response = http.post(api.messages_url, json=text("depuis un thread"))
        assert response.status_code == 200
        [sent] = api.sent_to(USER)
        assert isinstance(sent, SentMessage)
        assert sent.text == "depuis un thread"
        assert api.graph_url.endswith("/v21.0")
    with pytest.raises(RuntimeError, match="not running"):
        _ = api.url
