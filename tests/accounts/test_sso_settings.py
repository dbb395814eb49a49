"""Single sign-on's settings: half a configuration stops start-up with what to set; a whole
one lists the provider where the log-out form may continue, and changes nothing without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = {"OIDC_CLIENT_ID": "orchestrator", "OIDC_CLIENT_SECRET": "s"}


def start(code: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "orchestration_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"OIDC_CLIENT_ID": "orchestrator"}, "set OIDC_ISSUER (the provider's issuer URL"),
        (
            {"OIDC_CLIENT_ID": "x", "OIDC_ISSUER": "https://id.example.com"},
            "OIDC_CLIENT_SECRET too",
        ),
        ({**CLIENT, "OIDC_ISSUER": "https://i.example", "OIDC_SCOPES": "openid"}, "'openid email'"),
        (
            {**CLIENT, "OIDC_ISSUER": "https://i.example", "OIDC_JOIN_ROLE": "god"},
            "give one of owner, admin, editor, runner, viewer, auditor",
        ),
    ],
)
def test_half_a_configuration_stops_start_up(env: dict[str, str], said: str) -> None:
    result = start(**env)
    assert result.returncode != 0
    assert said in result.stderr


def test_the_log_out_form_may_continue_to_the_provider_only_when_it_is_set() -> None:
    show = (
        "from django.conf import settings; "
        "print(settings.OIDC_ENABLED, settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    )
    on = start(show, **CLIENT, OIDC_ISSUER="https://sso.example.com/realms/acme")
    off = start(show)

    assert on.stdout.strip() == "True [\"'self'\", 'https://sso.example.com']", on.stderr
    assert off.stdout.strip() == "False [\"'self'\"]", off.stderr


def test_empty_values_as_compose_passes_them_mean_the_defaults() -> None:
    show = (
        "from django.conf import settings as s; "
        "print(s.OIDC_ENABLED, s.OIDC_ALLOWED_DOMAINS, s.OIDC_BUTTON_LABEL, s.OIDC_JOIN_ROLE)"
    )
    empty = dict.fromkeys(
        ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_BUTTON_LABEL",
         "OIDC_ALLOWED_DOMAINS", "OIDC_JOIN_WORKSPACE", "OIDC_JOIN_ROLE"],
        "",
    )  # fmt: skip
    listed = start(
        show, **CLIENT, OIDC_ISSUER="https://i.example", OIDC_ALLOWED_DOMAINS=" @Acme.com, ,acme.de"
    )

    assert start(show, **empty).stdout.strip() == "False [] single sign-on viewer"
    assert listed.stdout.strip() == "True ['acme.com', 'acme.de'] single sign-on viewer"
