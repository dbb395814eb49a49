"""The run pages: the runs list, the live run page, the audit trail and the dashboard.

Each declares its permission (``workspaces.operations.page``): a run of a workspace you are not
in answers 404, so run ids leak nothing; lists and the dashboard show the session's workspace
(``workspaces.current``).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from teams.models import Team
from workspaces import operations
from workspaces.operations import page

from . import evidence, stats
from .audit import verify
from .inbox import questions_for
from .models import Run, RunEvent, agent_names
from .serializers import run_json

RUNS_PER_PAGE = 50
EVENTS_PER_PAGE = 500


class Filter(forms.Form):
    """GET filters: each one that can be read applies, whatever the others say. The page names
    the ones it could not read (``form.errors``)."""

    def readable(self) -> dict[str, Any]:
        self.is_valid()  # leaves in cleaned_data exactly the fields that validated
        return self.cleaned_data if self.is_bound else {}


class RunFilter(Filter):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Run.Status.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, workspace: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Team.objects.in_workspace(workspace).order_by("name")
        field.empty_label = "Any team"

    def apply(self, runs: QuerySet[Run]) -> QuerySet[Run]:
        data = self.readable()
        if data.get("team"):
            runs = runs.filter(team=data["team"])
        if data.get("status"):
            runs = runs.filter(status=data["status"])
        if data.get("since"):
            runs = runs.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            runs = runs.filter(created_at__date__lte=data["until"])
        return runs


def _page(request: HttpRequest, items: QuerySet[Any], per_page: int) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@page("run.view")
def run_list(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    form = RunFilter(workspace, request.GET or None)
    runs = form.apply(Run.objects.in_workspace(workspace)).select_related("team_version")
    return render(
        request,
        "runs/run_list.html",
        {
            "form": form,
            "page": _page(request, runs, RUNS_PER_PAGE),
            "query": _query_without_page(request),
        },
    )


@page(None)  # questions across every workspace the person may answer in
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "runs/inbox.html", {"questions": questions_for(request.user)})


@page("run.view")
@ensure_csrf_cookie  # the page's script POSTs cancel and answers to the API
def run_detail(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = operations.get(Run.objects.all(), request, pk=run_id)
    return render(
        request,
        "runs/run_detail.html",
        {"run": run, "run_document": run_json(run), "agent_names": agent_names(run.spec)},
    )


class EventFilter(Filter):
    agent = forms.ChoiceField(required=False)
    type = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=200, label="Text")

    def __init__(
        self, events: QuerySet[RunEvent], names: dict[str, str], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Without the model's ordering (run, seq), DISTINCT is over the value alone: each once.
        agents = events.exclude(agent="").order_by().values_list("agent", flat=True).distinct()
        types = events.order_by().values_list("type", flat=True).distinct()
        named = sorted(((a, names.get(a, a)) for a in agents), key=lambda c: c[1].lower())
        self.fields["agent"].choices = [("", "Any agent"), *named]
        self.fields["type"].choices = [("", "Any type")] + [(t, t) for t in sorted(types)]

    def apply(self, events: QuerySet[RunEvent]) -> QuerySet[RunEvent]:
        data = self.readable()
        if data.get("agent"):
            events = events.filter(agent=data["agent"])
        if data.get("type"):
            events = events.filter(type=data["type"])
        if data.get("q"):
            text = data["q"]
            events = events.filter(
                Q(payload__icontains=text) | Q(key__icontains=text) | Q(agent__icontains=text)
            )
        return events


@page("audit.view")
def run_audit(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = operations.get(Run.objects.all(), request, pk=run_id)
    events = run.events.order_by("seq")
    names = agent_names(run.spec)
    form = EventFilter(events, names, request.GET or None)
    page = _page(request, form.apply(events), EVENTS_PER_PAGE)
    for event in page:
        event.payload_json = json.dumps(event.payload, indent=2, ensure_ascii=False)
        event.payload_line = json.dumps(event.payload, ensure_ascii=False)
        event.agent_name = names.get(event.agent, event.agent)
        event.who = who_acted(run, event)
    verification = verify(run)
    return render(
        request,
        "runs/run_audit.html",
        {
            "run": run,
            "verification": verification,
            "verification_text": verification_text(verification),
            "form": form,
            "total": events.count(),
            "page": page,
            "query": _query_without_page(request),
            "export_jsonl": f"/api/runs/{run.id}/audit.jsonl",
            "export_csv": f"/api/runs/{run.id}/audit.csv",
            "evidence_zip": f"/api/runs/{run.id}/evidence.zip",
            "started_by": evidence.started_by(run),
            "answers": evidence.answered_by(run),
            "run_url": reverse("run-detail", args=[run.id]),
        },
    )


def who_acted(run: Run, event: RunEvent) -> str:
    """The person (or schedule, or trigger) behind an event, where there is one."""
    if event.type == "run.started":
        return evidence.started_by(run)
    if event.type == "human.answered":
        return str(event.payload.get("by") or "")
    return ""


def verification_text(result: dict[str, Any]) -> str:
    """What the audit page says about ``runs.audit.verify``'s result."""
    events, bad = result["events"], result.get("first_bad_seq")
    if result["ok"] and not events:
        return "No events recorded yet, so there is nothing to verify."
    if result["ok"] and result.get("signed_seq") == events:
        return (
            f"Hash chain verified: all {events} events are intact, and the run's signed head "
            "vouches that none was rewritten, removed or added since it stopped."
        )
    if result["ok"]:
        return f"Hash chain verified: all {events} events are intact. {result['note']}"
    if bad is not None and bad <= events:
        return f"Hash chain broken at event {bad} of {events}: {result['reason']}"
    return f"The audit trail does not verify: {result['reason']}"


DASHBOARD_WINDOWS = (7, 30, 90, 365)


@page("run.view")
def dashboard(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in DASHBOARD_WINDOWS:
        days = 30
    figures = stats.dashboard(request.user, days=days, workspace=workspace)
    busiest = max((d.runs for d in figures.runs_per_day), default=0)
    return render(
        request,
        "runs/dashboard.html",
        {"d": figures, "days": days, "windows": DASHBOARD_WINDOWS, "busiest": busiest},
    )
