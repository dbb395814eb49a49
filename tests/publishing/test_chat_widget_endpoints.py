"""The chat widget's endpoints, called the way a browser on another site does: only the
origins the publisher lists get an answer (with CORS for that origin alone); a conversation
is reached by its token alone; messages are bounded and each visitor address is
rate-limited; the token travels in a header, never in a URL. Every check here is performed as
an attack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from conversations.models import Conversation
from orchestration_site import quotas
from publishing.models import Publication, PublishedRun, WidgetConversation
from runs.models import Run
from tests.factories import make_team, minimal_spec
from workspaces.models import Membership

from .helpers import publish

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]

SHOP = "https://shop.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture(autouse=True)
def fresh_counts() -> None:
    quotas.reset()


@pytest.fixture
def published(alice: User, alice_client: Client) -> dict[str, Any]:
    team = make_team(alice, minimal_spec(name="Shop help"))
    return publish(alice_client, team, "shop-help", widget_origins=[SHOP + "/"])


def visitor(origin: str | None) -> dict[str, str]:
    return {"HTTP_ORIGIN": origin} if origin else {}


def start(slug: str, origin: str | None) -> Any:
    return Client(enforce_csrf_checks=True).post(
        f"/p/{slug}/widget/conversations", b"", content_type="application/json",
        **visitor(origin),
    )  # fmt: skip


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def send(slug: str, origin: str | None, token: str, body: Any) -> Any:
    payload = body if isinstance(body, bytes) else json.dumps(body)
    return Client(enforce_csrf_checks=True).post(
        f"/p/{slug}/widget/conversation/messages", payload,
        content_type="application/json", **visitor(origin), **bearer(token),
    )  # fmt: skip


def read(slug: str, origin: str | None, token: str) -> Any:
    return Client().get(f"/p/{slug}/widget/conversation", **visitor(origin), **bearer(token))


def test_a_listed_origin_starts_a_conversation_sends_and_reads_it(
    alice: User, published: dict[str, Any], dispatched: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    assert published["widget_origins"] == [SHOP]  # as a browser writes it: no slash
    preflight = Client().options(
        "/p/shop-help/widget/conversation/messages",
        HTTP_ORIGIN=SHOP, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]  # the token's header
    assert preflight["Vary"] == "Origin"

    started = start("shop-help", SHOP)
    assert started.status_code == 201, started.content
    assert started["Access-Control-Allow-Origin"] == SHOP and started["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in started
    token = started.json()["token"]
    assert len(token) >= 40 and started.json()["messages"] == []

    with django_capture_on_commit_callbacks(execute=True):
        sent = send("shop-help", SHOP, token, {"content": "Where is my parcel?"})
    assert sent.status_code == 201, sent.content
    assert sent.json()["writing"] is True
    run = Run.objects.get()
    assert dispatched == [str(run.id)]
    assert run.owner == alice and run.input["message"] == "Where is my parcel?"
    assert PublishedRun.objects.get(run=run).publication_id == published["id"]
    conversation = Conversation.objects.get()
    assert conversation.owner == alice and conversation.team_version.number == 1
    assert token not in str(WidgetConversation.objects.values().get())  # kept as its digest

    Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED, output="In Lyon.")
    answer = read("shop-help", SHOP, token)
    assert answer.status_code == 200
    assert answer.json()["writing"] is False
    assert [m["content"] for m in answer.json()["messages"]] == ["Where is my parcel?", "In Lyon."]
    assert "run" not in json.dumps(answer.json()).replace("run_", "")  # no run ids or links


@pytest.mark.parametrize(
    "origin", [EVIL, None, "null", SHOP + ".evil.net", "http://shop.example.com"]
)
def test_an_origin_not_listed_is_refused_with_no_cors_header(
    published: dict[str, Any], origin: str | None
) -> None:
    started = start("shop-help", SHOP)
    token = started.json()["token"]
    for response in [
        start("shop-help", origin),
        send("shop-help", origin, token, {"content": "hi"}),
        read("shop-help", origin, token),
        Client().options("/p/shop-help/widget/conversations", **visitor(origin)),
    ]:
        assert response.status_code == 403, response.content
        assert "Access-Control-Allow-Origin" not in response
    assert Run.objects.count() == 0 and WidgetConversation.objects.count() == 1


def test_a_listed_origin_cannot_use_another_publication_that_does_not_list_it(
    alice: User, alice_client: Client, published: dict[str, Any]
) -> None:
    other = make_team(alice, minimal_spec(name="Back office"))
    publish(alice_client, other, "back-office", widget_origins=["https://intranet.example.com"])
    token = start("shop-help", SHOP).json()["token"]

    assert start("back-office", SHOP).status_code == 403
    refused = read("back-office", SHOP, token)  # nor reach shop-help's conversation through it
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert start("no-such-slug", SHOP).status_code == 403


def test_a_publication_with_no_origins_or_taken_down_has_no_widget(
    alice: User, alice_client: Client, published: dict[str, Any]
) -> None:
    assert start("shop-help", SHOP).status_code == 201
    Publication.objects.filter(slug="shop-help").update(widget_origins=[])
    assert start("shop-help", SHOP).status_code == 403
    Publication.objects.filter(slug="shop-help").update(widget_origins=[SHOP])
    alice_client.delete(f"/api/publications/{published['id']}")
    assert start("shop-help", SHOP).status_code == 403


def test_the_token_of_another_conversation_reaches_nothing(published: dict[str, Any]) -> None:
    mine = start("shop-help", SHOP).json()["token"]
    theirs = start("shop-help", SHOP).json()["token"]
    assert mine != theirs
    conversation_id = str(Conversation.objects.order_by("pk").last().pk)
    for guess in [mine[:-1] + ("A" if mine[-1] != "A" else "B"), conversation_id, "x"]:
        assert read("shop-help", SHOP, guess).status_code == 404
        refused = send("shop-help", SHOP, guess, {"content": "hi"})
        assert refused.status_code == 404
        assert refused["Access-Control-Allow-Origin"] == SHOP  # the widget reads why
    assert Run.objects.count() == 0


def test_the_token_is_never_taken_from_a_url(published: dict[str, Any]) -> None:
    token = start("shop-help", SHOP).json()["token"]
    # The first widget's paths carried it, so access logs did: gone, whatever the token.
    old = f"/p/shop-help/widget/conversations/{token}"
    for answer in [
        Client().get(old, **visitor(SHOP)),
        Client().post(f"{old}/messages", {"content": "hi"}, "application/json", **visitor(SHOP)),
    ]:
        assert answer.status_code == 410
        assert "Authorization header" in answer.json()["detail"]
        assert "messages" not in answer.json()
    # Nor in the query string, nor without a header at all.
    url = "/p/shop-help/widget/conversation"
    for answer in [
        Client().get(f"{url}?token={token}", **visitor(SHOP)),
        Client().get(url, **visitor(SHOP), HTTP_AUTHORIZATION=token),  # no scheme
        Client().get(url, **visitor(SHOP), HTTP_AUTHORIZATION="Bearer "),
        Client().post(f"{url}/messages", {"content": "hi"}, "application/json", **visitor(SHOP)),
    ]:
        assert answer.status_code == 401
        assert "Authorization: Bearer" in answer.json()["detail"]
        assert answer["Access-Control-Allow-Origin"] == SHOP  # the widget reads why
    assert Run.objects.count() == 0
    assert read("shop-help", SHOP, token).status_code == 200


def test_oversize_empty_and_malformed_messages_are_refused(published: dict[str, Any]) -> None:
    token = start("shop-help", SHOP).json()["token"]
    huge = send("shop-help", SHOP, token, json.dumps({"content": "a" * 200_000}).encode())
    assert huge.status_code == 413, huge.content
    long = send("shop-help", SHOP, token, {"content": "a" * 4001})
    assert long.status_code == 422 and "4000 characters" in long.json()["detail"]
    for body in [{"content": "   "}, {"content": 7}, {}, [1], b"not json", {"content": "a\x00"}]:
        refused = send("shop-help", SHOP, token, body)
        assert refused.status_code in (400, 422), (body, refused.content)
        assert refused.json()["detail"]
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b"not json", 400, 'The body is not JSON; send {"content": "..."}.'),
        (b"[1]", 422, 'Send the message as {"content": "..."}, not empty.'),
        (b'"hi"', 422, 'Send the message as {"content": "..."}, not empty.'),
        (b"{}", 422, 'Send the message as {"content": "..."}, not empty.'),
        (b"[" * 100_000, 413, "The body is larger than 25024 bytes; send less."),
    ],
)
def test_a_body_that_is_not_a_json_object_gets_its_own_answer(
    published: dict[str, Any], body: bytes, status: int, detail: str
) -> None:
    token = start("shop-help", SHOP).json()["token"]
    refused = send("shop-help", SHOP, token, body)
    assert refused.status_code == status, refused.content
    assert refused.json() == {"detail": detail, "problems": []}
    assert refused["Access-Control-Allow-Origin"] == SHOP


def test_each_visitor_address_is_rate_limited_per_publication(
    published: dict[str, Any], settings: Any
) -> None:
    settings.WIDGET_RATE_LIMIT = "3/minute"
    for _ in range(3):
        assert start("shop-help", SHOP).status_code == 201
    limited = start("shop-help", SHOP)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert limited["Access-Control-Allow-Origin"] == SHOP
    assert "Retry-After" in limited["Access-Control-Expose-Headers"]
    other = Client(REMOTE_ADDR="10.0.0.9").post(
        "/p/shop-help/widget/conversations", HTTP_ORIGIN=SHOP
    )
    assert other.status_code == 201  # another visitor is not held back


def test_a_second_message_waits_for_the_first_answer(published: dict[str, Any]) -> None:
    token = start("shop-help", SHOP).json()["token"]
    assert send("shop-help", SHOP, token, {"content": "One"}).status_code == 201
    busy = send("shop-help", SHOP, token, {"content": "Two"})
    assert busy.status_code == 409 and Run.objects.count() == 1


def test_a_visitor_cannot_grow_one_conversation_without_end(
    published: dict[str, Any], settings: Any
) -> None:
    # A script on a listed origin keeps one conversation going, each message a run that
    # reads the whole conversation again: past the site's limit it must start a new one.
    settings.CONVERSATION_MAX_TURNS = 3
    token = start("shop-help", SHOP).json()["token"]
    for n in range(3):
        assert send("shop-help", SHOP, token, {"content": f"Question {n}"}).status_code == 201
        Run.objects.update(status=Run.Status.SUCCEEDED, output="An answer.")

    refused = send("shop-help", SHOP, token, {"content": "One more"})

    assert refused.status_code == 409, refused.content
    assert refused["Access-Control-Allow-Origin"] == SHOP  # the widget can read why
    assert "limit of 3 messages" in refused.json()["detail"]
    assert refused.json()["problems"][0]["code"] == "conversation_full"
    assert Run.objects.count() == 3
    assert len(read("shop-help", SHOP, token).json()["messages"]) == 6
    # A new conversation goes on.
    fresh = start("shop-help", SHOP).json()["token"]
    assert send("shop-help", SHOP, fresh, {"content": "One more"}).status_code == 201


@pytest.mark.parametrize(
    "origin, why",
    [
        ("https://*.example.com", "wildcards"),
        ("https://shop.example.com/chat", "no path"),
        ("shop.example.com", "not an origin"),
        ("ftp://shop.example.com", "not an origin"),
        ("https://shop.example.com:99999", "not an origin"),
        ("null", "not an origin"),
        ("https://shop example.com", "not an origin"),
        ("https://bücher.example", "xn--"),
    ],
)
def test_the_publisher_lists_exact_origins_only(
    alice: User, alice_client: Client, origin: str, why: str
) -> None:
    team = make_team(alice, minimal_spec(name="Shop help"))
    response = alice_client.post(
        f"/api/teams/{team.id}/publish",
        {"version": 1, "slug": "shop-help", "widget_origins": [origin]},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert why in json.dumps(response.json())
    assert not Publication.objects.exists()


def test_origins_are_kept_as_browsers_send_them(alice: User, alice_client: Client) -> None:
    team = make_team(alice, minimal_spec(name="Shop help"))
    given = ["HTTPS://Shop.Example.com:443", "http://localhost:8080", "https://shop.example.com"]
    publication = publish(alice_client, team, "shop-help", widget_origins=given)
    assert publication["widget_origins"] == ["https://shop.example.com", "http://localhost:8080"]
    again = publish(alice_client, team, "shop-help")  # left out: kept
    assert again["widget_origins"] == publication["widget_origins"]
    assert again["widget_script_url"].endswith("/static/js/widget.js")


def test_the_publish_page_lists_origins_and_says_what_is_wrong_with_one(
    alice: User, alice_client: Client
) -> None:
    team = make_team(alice, minimal_spec(name="Shop help"))
    form = {"version": 1, "slug": "shop-help", "rate_limit": ""}
    bad = alice_client.post(
        f"/teams/{team.id}/publish/", {**form, "widget_origins": "https://*.example.com"}
    )
    assert bad.status_code == 200
    assert "wildcards are not allowed" in bad.content.decode()
    assert not Publication.objects.exists()

    good = alice_client.post(
        f"/teams/{team.id}/publish/",
        {**form, "widget_origins": "https://shop.example.com\r\n\r\nhttp://localhost:8080/\r\n"},
        follow=True,
    )
    assert good.status_code == 200
    assert Publication.objects.get().widget_origins == [SHOP, "http://localhost:8080"]
    page = good.content.decode()
    assert '/static/js/widget.js" data-publication="shop-help" async&gt;' in page
    assert "on pages of https://shop.example.com, http://localhost:8080" in page


def test_a_publisher_who_may_no_longer_start_runs_leaves_the_chat_unavailable(
    alice: User, published: dict[str, Any]
) -> None:
    token = start("shop-help", SHOP).json()["token"]
    Membership.objects.filter(user=alice).update(role="viewer")
    refused = send("shop-help", SHOP, token, {"content": "Hello?"})
    assert refused.status_code == 503, refused.content
    assert refused.json()["detail"] == "This chat is not available now."
    assert Run.objects.count() == 0
