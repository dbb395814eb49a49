"""The page behind an invitation link: who invites you where, as what; accept it (logged
in), or log in or sign up first and come back."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import choose, services
from .pages import landing


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = services.check_invitation(token)
    except services.InvitationRefused as exc:
        context = {"reason": str(exc)}
        return render(request, "workspaces/invitation.html", context, status=410)
    context = {"invitation": found, "token": token, "here": request.path}
    if request.method != "POST" or not request.user.is_authenticated:
        return render(request, "workspaces/invitation.html", context)
    try:
        membership = services.accept(token, request.user)
    except (services.InvitationRefused, services.Conflict) as exc:
        context["reason"] = str(exc)
        return render(request, "workspaces/invitation.html", context, status=409)
    request.session["workspace"] = membership.workspace.slug  # the pages now work in it
    messages.success(
        request, f"You are now a member of {membership.workspace.name}, as {membership.role}."
    )
    choose(request, membership.workspace)
    return redirect(landing(request, membership.workspace))
