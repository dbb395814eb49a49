"""The team builder page: a Django template that mounts the React canvas (frontend/src/builder).

Everything the canvas reads and writes goes through the JSON API; the page only says which
team to open, after checking that it is the user's.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie

from .models import Team


@login_required
@ensure_csrf_cookie  # the canvas sends it back as X-CSRFToken on every save
def team_builder(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team.objects.for_user(request.user), pk=team_id)
    return render(request, "teams/builder.html", {"team": team})
