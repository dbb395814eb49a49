"""Checks every JSON body sent to the API gets before any view sees it."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from teams.services import too_deep, unstorable
from teams.validation import Problem


class RefuseUnstorableJSON:
    """A JSON body the database could not store (a NUL character, which PostgreSQL's text and
    jsonb reject) or that is absurdly deep is answered with a located 422, for every endpoint
    at once, instead of a 500 from the database after part of the work is done.

    A middleware rather than the API's parser, because django-ninja turns anything its
    parser raises into a bare 400 without the location."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and request.content_type == "application/json":
            try:
                document = json.loads(request.body or b"null")
            except ValueError:
                return self.get_response(request)  # the API says what is wrong with it
            except RecursionError:
                # Deeper than the parser's own stack: far past MAX_DOCUMENT_DEPTH anyway.
                return refused(too_deep())
            problem = unstorable(document)
            if problem is not None:
                return refused(problem)
        return self.get_response(request)


def refused(problem: Problem) -> JsonResponse:
    return JsonResponse(
        {
            "detail": "The request cannot be stored; nothing was saved.",
            "problems": [problem.model_dump()],
        },
        status=422,
    )
