"""The public face of a published team: ``POST /p/<slug>/runs`` and ``GET
/p/<slug>/runs/<id>``, authenticated by a key of that publication alone (no session, no CSRF:
a browser never sends the Authorization header by itself). Every answer is JSON in the API's
``{"detail", "problems"}`` shape."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from ninja.errors import HttpError

from orchestration_site import bodies
from orchestration_site.quotas import QuotaExceeded
from teams.services import unstorable

from . import actions, waits
from .models import PublicationKey


class Refused(Exception):
    def __init__(self, status: int, detail: str, problems: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.problems = status, detail, problems or []

    def as_response(self) -> JsonResponse:
        response = JsonResponse(
            {"detail": self.detail, "problems": self.problems}, status=self.status
        )
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="publication"'
        return response


def bearer_key(authorization: str) -> PublicationKey:
    """The publication key in an ``Authorization: Bearer`` header; a 401 for none, an unknown
    or revoked one, or one of a publication taken down."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Refused(401, "Send a key of this publication: Authorization: Bearer <key>.")
    key = PublicationKey.authenticate(given.strip())
    if key is None:
        raise Refused(
            401, "This key is not valid: it may have been revoked, or the team unpublished."
        )
    return key


def key_for(request: HttpRequest, slug: str) -> PublicationKey:
    """The caller's key, if it is one of the publication at ``slug``, counted against its rate."""
    key = bearer_key(request.headers.get("Authorization", ""))
    if key.publication.slug != slug:
        raise Refused(401, f"This key is not a key of /p/{slug}/; use one issued for it.")
    actions.admit(key)
    return key


def input_of(request: HttpRequest) -> Any:
    """The ``input`` member of the JSON body (413 over ``PUBLICATION_MAX_BODY_BYTES``)."""
    shape = 'Send the run\'s input as {"input": ...}.'
    document = bodies.json_object(
        request, settings.PUBLICATION_MAX_BODY_BYTES, '{"input": ...}', shape
    )
    if "input" not in document:
        raise Refused(422, shape)
    if document["input"] is None:
        raise Refused(422, "The input cannot be null; send {} for a run with no input.")
    if problem := unstorable(document["input"]):
        raise Refused(422, f"The input cannot be stored: {problem.message}")
    return document["input"]


def answering(view: Any) -> Any:
    """Turn refusals (ours and the body reader's) and used-up rates into their JSON answers."""

    def respond(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except Refused as exc:
            return exc.as_response()
        except HttpError as exc:  # the body refused by orchestration_site.bodies
            return Refused(exc.status_code, str(exc)).as_response()
        except QuotaExceeded as exc:
            return exc.as_json_response()

    return csrf_exempt(respond)


@answering
@require_POST
def start_run(request: HttpRequest, slug: str) -> JsonResponse:
    key = key_for(request, slug)
    task_input = input_of(request)
    wait = request.GET.get("wait") in ("1", "true", "yes")
    try:
        if wait:  # a wait over the bound is a 429 that started nothing
            run, slot = waits.start_holding(key, lambda: actions.do_start(key, task_input))
            run = waits.wait_or_defer(request, run, key.publication, slot)
        else:
            run = actions.do_start(key, task_input)
    except actions.RunRefused as exc:
        raise Refused(422, exc.detail, exc.problems) from None
    return JsonResponse(actions.run_answer(key.publication, run), status=201)


@answering
@require_GET
def read_run(request: HttpRequest, slug: str, run_id: UUID) -> JsonResponse:
    key = key_for(request, slug)
    run = actions.published_run(key, run_id)
    if run is None:
        raise Refused(404, f"No run {run_id} was started through /p/{slug}/.")
    return JsonResponse(actions.run_answer(key.publication, run))
