"""Sign-up and log-in, as ``SIGNUP`` allows and throttled per address and per username."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from orchestration_site import quotas
from orchestration_site.quotas import QuotaExceeded
from workspaces import choose, services
from workspaces.models import Invitation as WorkspaceInvitation

from .forms import SignupForm
from .models import Invitation
from .sso_views import provider_logout_url

CLOSED = (
    "Sign-up is closed on this server. Ask the person who runs it for an account or an "
    "invitation link."
)
NEEDS_INVITE = (
    "Sign-up on this server needs an invitation link, and this one is missing, already used "
    "or expired. Ask the person who runs it for a new one."
)


class LoginView(auth_views.LoginView):
    """Django's log-in, with every attempt counted per address and per username: guessing
    passwords gets 429 and Retry-After long before it gets anywhere."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.OIDC_ENABLED:
            context["sso_label"] = settings.OIDC_BUTTON_LABEL
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150].strip().lower()
        try:
            quotas.hit(quotas.LOGINS_PER_IP, quotas.client_address(request))
            quotas.hit(quotas.LOGINS_PER_USERNAME, username)
        except QuotaExceeded as exc:
            return exc.as_page()
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    """Django's log-out; someone who came through single sign-on is then sent to the
    provider to end its session too, and comes back to the log-in page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if url := provider_logout_url(request, id_token):
            return redirect(url)
        return response


def signup(request: HttpRequest) -> HttpResponse:
    token = str(request.POST.get("invite") or request.GET.get("invite") or "")
    if request.user.is_authenticated:
        joins = token.startswith(WorkspaceInvitation.PREFIX)
        return redirect("workspace-invitation", token) if joins else redirect("home")
    invitation = Invitation.find_usable(token) if settings.SIGNUP == "invite" else None
    # A workspace's invitation link admits its sign-up too, and is accepted with it.
    joining = WorkspaceInvitation.find_usable(token) if settings.SIGNUP != "closed" else None
    if refusal := _refusal(invitation or joining):
        return render(request, "registration/signup_closed.html", {"reason": refusal}, status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        try:
            quotas.hit(quotas.SIGNUPS_PER_IP, quotas.client_address(request))
        except QuotaExceeded as exc:
            return exc.as_page()
        if form.is_valid() and (user := _create(form, invitation, joining and token)):
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}.")
            if joining:
                choose(request, joining.workspace)
            return redirect("home")
    return render(request, "registration/signup.html", {"form": form, "invite": token})


def _refusal(invitation: Invitation | WorkspaceInvitation | None) -> str | None:
    if settings.SIGNUP == "closed":
        return CLOSED
    if settings.SIGNUP == "invite" and invitation is None:
        return NEEDS_INVITE
    return None


def _create(
    form: SignupForm, invitation: Invitation | None, joining: str | None = None
) -> Any | None:
    """The new account; None (with the form told why) if the invitation went meanwhile.
    With ``joining`` (a workspace invitation's token) it is accepted in the same
    transaction, so one link admits one account."""
    with transaction.atomic():
        user = form.save()
        try:
            if joining:
                services.accept(joining, user)
                return user
            if invitation is None or invitation.redeem(user):
                return user
            problem = NEEDS_INVITE
        except (services.InvitationRefused, services.Conflict) as exc:
            problem = str(exc)
        transaction.set_rollback(True)
    form.add_error(None, problem)
    return None


def signup_setting(request: HttpRequest) -> dict[str, Any]:
    """Template context: whether pages offer a sign-up link to everyone."""
    return {"signup_open": settings.SIGNUP == "open"}
