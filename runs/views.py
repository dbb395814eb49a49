"""The run pages: the runs list, the live run page, the audit trail and the dashboard.

All are owner-only: another user's run answers 404, so run ids leak nothing.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from teams.models import Team

from . import stats
from .engine.events import HUMAN_ANSWERED, HUMAN_REQUESTED
from .models import Run, RunEvent

RUNS_PER_PAGE = 50
EVENTS_PER_PAGE = 500


def pending_human(run: Run) -> dict[str, Any] | None:
    """The question a waiting run asks a person: its last unanswered ``human.requested``."""
    if run.status != Run.Status.WAITING:
        return None
    answered = {
        event.payload.get("activity_key") for event in run.events.filter(type=HUMAN_ANSWERED)
    }
    for event in run.events.filter(type=HUMAN_REQUESTED).order_by("-seq"):
        payload = event.payload
        if payload.get("activity_key") not in answered:
            return {
                "activity_key": payload.get("activity_key"),
                "node": payload.get("node"),
                "prompt": payload.get("prompt"),
                "answer_schema": payload.get("answer_schema"),
                "kind": payload.get("kind", "human"),
            }
    return None


def run_document(run: Run) -> dict[str, Any]:
    """The run as the API's ``GET /api/runs/{id}`` returns it, for the page's first paint."""
    last = run.events.order_by("-seq").values_list("seq", flat=True).first()
    return {
        "id": str(run.id),
        "team_id": run.team_id,
        "team_name": run.team_name,
        "team_version": run.team_version.number if run.team_version else None,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "failure_reason": run.failure_reason,
        "waiting_for": run.waiting_for,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "cost_usd": str(run.cost_usd),
        "last_seq": last or 0,
        "pending_human": pending_human(run),
        "artifacts": [
            {
                "id": str(a.id),
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "url": f"/api/artifacts/{a.id}",
            }
            for a in run.artifacts.all()
        ],
    }


class RunFilter(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Run.Status.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Team.objects.for_user(user).order_by("name")
        field.empty_label = "Any team"

    def apply(self, runs: QuerySet[Run]) -> QuerySet[Run]:
        if not self.is_valid():
            return runs
        data = self.cleaned_data
        if data["team"]:
            runs = runs.filter(team=data["team"])
        if data["status"]:
            runs = runs.filter(status=data["status"])
        if data["since"]:
            runs = runs.filter(created_at__date__gte=data["since"])
        if data["until"]:
            runs = runs.filter(created_at__date__lte=data["until"])
        return runs


def _page(request: HttpRequest, items: QuerySet[Any], per_page: int) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    form = RunFilter(request.user, request.GET or None)
    runs = form.apply(Run.objects.for_user(request.user)).select_related("team_version")
    return render(
        request,
        "runs/run_list.html",
        {
            "form": form,
            "page": _page(request, runs, RUNS_PER_PAGE),
            "query": _query_without_page(request),
        },
    )


@login_required
@ensure_csrf_cookie  # the page's script POSTs cancel and answers to the API
def run_detail(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = get_object_or_404(Run.objects.for_user(request.user), pk=run_id)
    return render(
        request,
        "runs/run_detail.html",
        {"run": run, "run_document": run_document(run)},
    )


class EventFilter(forms.Form):
    agent = forms.ChoiceField(required=False)
    type = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=200, label="Text")

    def __init__(self, events: QuerySet[RunEvent], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = events.exclude(agent="").values_list("agent", flat=True).distinct()
        types = events.values_list("type", flat=True).distinct()
        self.fields["agent"].choices = [("", "Any agent")] + [(a, a) for a in sorted(agents)]
        self.fields["type"].choices = [("", "Any type")] + [(t, t) for t in sorted(types)]

    def apply(self, events: QuerySet[RunEvent]) -> QuerySet[RunEvent]:
        if not self.is_valid():
            return events
        data = self.cleaned_data
        if data["agent"]:
            events = events.filter(agent=data["agent"])
        if data["type"]:
            events = events.filter(type=data["type"])
        if data["q"]:
            text = data["q"]
            events = events.filter(
                Q(payload__icontains=text) | Q(key__icontains=text) | Q(agent__icontains=text)
            )
        return events


@login_required
def run_audit(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = get_object_or_404(Run.objects.for_user(request.user), pk=run_id)
    events = run.events.order_by("seq")
    form = EventFilter(events, request.GET or None)
    page = _page(request, form.apply(events), EVENTS_PER_PAGE)
    for event in page:
        event.payload_json = json.dumps(event.payload, indent=2, ensure_ascii=False)
        event.payload_line = json.dumps(event.payload, ensure_ascii=False)
    return render(
        request,
        "runs/run_audit.html",
        {
            "run": run,
            "form": form,
            "total": events.count(),
            "page": page,
            "query": _query_without_page(request),
            "verify_url": f"/api/runs/{run.id}/verify",
            "export_jsonl": f"/api/runs/{run.id}/audit.jsonl",
            "export_csv": f"/api/runs/{run.id}/audit.csv",
            "run_url": reverse("run-detail", args=[run.id]),
        },
    )


DASHBOARD_WINDOWS = (7, 30, 90, 365)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in DASHBOARD_WINDOWS:
        days = 30
    figures = stats.dashboard(request.user, days=days)
    busiest = max((d.runs for d in figures.runs_per_day), default=0)
    return render(
        request,
        "runs/dashboard.html",
        {"d": figures, "days": days, "windows": DASHBOARD_WINDOWS, "busiest": busiest},
    )
