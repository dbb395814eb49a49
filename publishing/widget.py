"""The chat widget's endpoints (``static/js/widget.js`` calls them from another site's page):
start a conversation with the published team, send a message, read the conversation.

A browser sends these from the embedding page, so the ``Origin`` header is the check: it must
be one of the publication's ``widget_origins`` (else 403 with no CORS header, so the page
cannot even read the refusal). The answer names that origin alone in
``Access-Control-Allow-Origin``, never ``*``, and no cookie is ever read or sent. A
conversation is reached by the token its start returned (kept as its digest), never by its
id, so one visitor cannot read another's; the token travels in ``Authorization: Bearer``,
never in a URL, so it is in no access log, proxy log or Referer. Each visitor address is
rate-limited per publication. The runs are the publisher's, recorded as the publication's (``PublishedRun``
with no key), as ``/p/<slug>/runs`` records its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError

from conversations import actions as conversations
from orchestration_site import bodies, quotas, tokens
from runs.models import Run
from teams.validation import UnresolvedTeam
from workspaces import access

from .models import Publication, PublishedRun, WidgetConversation
from .views import Refused

WIDGET_STARTS = quotas.Rate("WIDGET_RATE_LIMIT", "messages from this address to this chat")
WIDGET_READS = quotas.Rate("WIDGET_READ_RATE_LIMIT", "reads from this address of this chat")
#: What a widget message may hold (characters): a visitor's question, not a document.
MAX_WIDGET_MESSAGE_CHARS = 4000
#: The body a message may have: its characters, each escaped to at most six bytes, and JSON.
MAX_BODY_BYTES = MAX_WIDGET_MESSAGE_CHARS * 6 + 1024


def publication_for(request: HttpRequest, slug: str) -> tuple[Publication, str]:
    """The live publication at ``slug`` and the caller's origin, if it lists that origin."""
    origin = request.headers.get("Origin", "")
    publication = (
        Publication.objects.live().select_related("team", "published_by").filter(slug=slug).first()
    )
    if publication is None or not origin or origin not in publication.widget_origins:
        raise Refused(
            403, f"This site may not embed the chat of /p/{slug}/; its publisher lists the sites."
        )
    return publication, origin


def with_cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def widget_view(methods: tuple[str, ...]) -> Callable[[Any], Any]:
    """A widget endpoint: the origin check, the preflight, CORS on every answer past the
    check, refusals and used-up rates as JSON."""

    def wrap(view: Any) -> Any:
        def respond(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponse:
            try:
                publication, origin = publication_for(request, slug)
            except Refused as exc:
                response: HttpResponse = exc.as_response()
                response["Vary"] = "Origin"
                return response
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = ", ".join(methods)
                response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                response["Access-Control-Max-Age"] = "600"
                return with_cors(response, origin)
            try:
                if request.method not in methods:
                    raise Refused(405, f"Use {' or '.join(methods)}.")
                response = view(request, publication, **kwargs)
            except Refused as exc:
                response = exc.as_response()
            except HttpError as exc:  # the body refused by orchestration_site.bodies
                response = Refused(exc.status_code, str(exc)).as_response()
            except quotas.QuotaExceeded as exc:
                response = exc.as_json_response()
                response["Access-Control-Expose-Headers"] = "Retry-After"
            return with_cors(response, origin)

        return csrf_exempt(respond)

    return wrap


def admit(rate: quotas.Rate, request: HttpRequest, publication: Publication) -> None:
    quotas.hit(rate, "publication", publication.id, quotas.client_address(request))


def token_of(request: HttpRequest) -> str:
    """The conversation's token, from ``Authorization: Bearer <token>`` (401 without one)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Refused(401, "Send the conversation's token: Authorization: Bearer <token>.")
    return given.strip()


def conversation_of(publication: Publication, token: str) -> WidgetConversation:
    found = (
        WidgetConversation.objects.select_related("conversation")
        .filter(publication=publication, digest=tokens.digest(token))
        .first()
    )
    if found is None:
        raise Refused(404, "This conversation was not found; start a new one.")
    return found


def message_of(request: HttpRequest) -> str:
    shape = 'Send the message as {"content": "..."}, not empty.'
    document = bodies.json_object(request, MAX_BODY_BYTES, '{"content": "..."}', shape)
    content = document.get("content")
    if not isinstance(content, str) or not content.strip():
        raise Refused(422, shape)
    if len(content) > MAX_WIDGET_MESSAGE_CHARS:
        raise Refused(
            422, f"The message is too long: at most {MAX_WIDGET_MESSAGE_CHARS} characters."
        )
    if "\x00" in content:
        raise Refused(422, "The message cannot hold a NUL character.")
    return content


def conversation_answer(widget: WidgetConversation, token: str) -> dict[str, Any]:
    """What the visitor sees: the messages, and whether an answer is still being written
    (no run ids, no links: those are the publisher's)."""
    messages: list[dict[str, Any]] = []
    writing = False
    for turn in widget.conversation.turns.select_related("run"):
        messages.append({"role": "user", "content": turn.content})
        run = turn.run
        status = run.status if run is not None else Run.Status.FAILED
        ended = run is None or run.is_finished or run.status == Run.Status.WAITING
        writing = writing or not ended
        answer = conversations.shown_answer(run)
        if answer is None and ended:
            answer = "Sorry, no answer could be written. Try again."
        messages.append(
            {"role": "assistant", "content": answer, "status": status, "finished": ended}
        )
    return {"token": token, "messages": messages, "writing": writing}


@widget_view(("POST",))
def start(request: HttpRequest, publication: Publication) -> JsonResponse:
    admit(WIDGET_STARTS, request, publication)
    version = publication.team.versions.filter(number=publication.version).first()
    if version is None:
        raise Refused(503, "This chat is not available now.")
    token = tokens.new_token("")
    with transaction.atomic():
        conversation = conversations.do_start_conversation(
            publication.published_by, publication.team, version, None
        )
        widget = WidgetConversation.objects.create(
            publication=publication, conversation=conversation, digest=tokens.digest(token)
        )
    return JsonResponse(conversation_answer(widget, token), status=201)


@widget_view(("GET",))
def read(request: HttpRequest, publication: Publication) -> JsonResponse:
    admit(WIDGET_READS, request, publication)
    token = token_of(request)
    widget = conversation_of(publication, token)
    return JsonResponse(conversation_answer(widget, token))


@widget_view(("POST",))
def send(request: HttpRequest, publication: Publication) -> JsonResponse:
    admit(WIDGET_STARTS, request, publication)
    token = token_of(request)
    widget = conversation_of(publication, token)
    content = message_of(request)
    try:
        with transaction.atomic():
            run = conversations.do_send_message(
                widget.conversation, publication.published_by, content
            )
            PublishedRun.objects.create(run=run, publication=publication, key=None)
    except conversations.Busy:
        raise Refused(409, "The answer to your last message is still being written.") from None
    except conversations.Full:
        # The widget forgets the token on this code, so the next message starts a new one.
        detail = (
            f"This conversation has reached its limit of "
            f"{conversations.messages(settings.CONVERSATION_MAX_TURNS)};"
            " send your message again to start a new one."
        )
        raise Refused(409, detail, [conversations.Full.problem(detail)]) from None
    except (access.NotFound, access.Forbidden, UnresolvedTeam):
        # The publisher may no longer start runs there, or a nested team has gone.
        raise Refused(503, "This chat is not available now.") from None
    widget.refresh_from_db()
    return JsonResponse(conversation_answer(widget, token), status=201)


@csrf_exempt
def token_in_path(request: HttpRequest, slug: str, token: str) -> JsonResponse:
    """The first widget's paths, with the token in them: refused whatever the token, without
    looking it up, so a token copied from an old log reaches nothing through them."""
    return JsonResponse(
        {
            "detail": "This address is gone: the conversation's token goes in the "
            "Authorization header now (GET or POST /p/<slug>/widget/conversation[/messages] "
            "with Authorization: Bearer <token>); reload the page for the current widget."
        },
        status=410,
    )
