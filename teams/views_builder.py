"""The team builder page: a Django template that mounts the React canvas (frontend/src/builder).

Everything the canvas reads and writes goes through the JSON API; the page only says which
team to open, after checking that the user may change it (``team.edit``): a reader sees the
team's read-only page instead.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from workspaces import operations
from workspaces.operations import page

from .models import Team


@page("team.view")  # read-only, with the reason, for a role that may not change it
@ensure_csrf_cookie  # the canvas sends it back as X-CSRFToken on every save
def team_builder(request: HttpRequest, team_id: int) -> HttpResponse:
    team = operations.get(Team.objects.all(), request, pk=team_id)
    return render(request, "teams/builder.html", {"team": team})
