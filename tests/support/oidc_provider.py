"""A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider (the
npm package, certified by the OpenID Foundation) run by node from tests/support/oidc/, on
127.0.0.1. `make test` installs it (`npm ci` in that folder).

`ProviderProcess.sign_in()` walks its authorization flow the way a browser would, with plain
HTTP: follow the redirects, fill in the provider's log-in form, and hand back the callback
URL it sends the person to, for the Django test client to open."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "orchestrator"
CLIENT_SECRET = "a-client-secret-for-tests-only"


class ProviderProcess:
    """The provider in a node process of its own; people are set with `set_accounts`."""

    def __init__(self, redirect_bases: list[str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="oidc-provider-"))
        self.accounts_file = self.folder / "accounts.json"
        self.set_accounts({})
        config = {
            "port": 0,
            "accounts": str(self.accounts_file),
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [f"{base}/oidc/callback/" for base in redirect_bases],
                    "post_logout_redirect_uris": [f"{base}/login/" for base in redirect_bases],
                }
            ],
        }
        (self.folder / "config.json").write_text(json.dumps(config))
        self.log = (self.folder / "provider.log").open("w+")
        self.process = subprocess.Popen(
            [_node(), str(HERE / "provider.mjs"), str(self.folder / "config.json")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=HERE,
        )
        self.issuer = self._wait_for_issuer()

    def _wait_for_issuer(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.log.seek(0)
            if found := re.search(r"^listening (\S+)$", self.log.read(), re.MULTILINE):
                return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError(f"the OIDC provider did not start:\n{self.log.read()}")

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """Each person's `sub` (also their login at the provider) -> their claims; read
        again at every log-in."""
        self.accounts_file.write_text(json.dumps(accounts))

    def sign_in(self, start_url: str, login: str) -> str:
        """Follows the provider from ``start_url`` (its authorization URL) through its
        log-in form as ``login``; returns the URL it redirects back to (our callback)."""
        browser = requests.Session()
        url = start_url
        for _ in range(10):
            if not url.startswith(self.issuer):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            assert form, f"no form at {url}: {response.status_code} {response.text[:300]}"
            response = browser.post(
                urljoin(url, form.group(1)),
                data={"prompt": "login", "login": login, "password": "any"},
                allow_redirects=False,
                timeout=10,
            )
            assert response.is_redirect, response.text[:300]
            url = urljoin(url, response.headers["Location"])
        raise AssertionError(f"the provider never sent {login} back: stuck at {url}")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_provider(redirect_bases: list[str]) -> ProviderProcess:
    """The provider, with the site at each of ``redirect_bases`` as its one client."""
    from tests.conftest import require

    require(
        (HERE / "node_modules" / "oidc-provider").is_dir() and _node() != "",
        "needs node and the test OIDC provider: `make test` installs it "
        "(npm ci in tests/support/oidc)",
    )
    return ProviderProcess(redirect_bases)


def point_at(settings: Any, process: ProviderProcess, **overrides: Any) -> None:
    """The site's single sign-on settings (pytest-django's ``settings``), aimed at
    ``process``, its origin allowed as a form target (log-out continues there)."""
    from accounts import oidc

    values = {
        "OIDC_ENABLED": True,
        "OIDC_ISSUER": process.issuer,
        "OIDC_RP_CLIENT_ID": CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_BUTTON_LABEL": "Acme ID",
        "OIDC_ALLOWED_DOMAINS": [],
        "OIDC_CREATE_USERS": True,
        "OIDC_JOIN_WORKSPACE": "",
    }
    values.update(overrides)
    for name, value in values.items():
        setattr(settings, name, value)
    csp = settings.CONTENT_SECURITY_POLICY
    directives = {**csp["DIRECTIVES"], "form-action": ["'self'", process.origin]}
    settings.CONTENT_SECURITY_POLICY = {**csp, "DIRECTIVES": directives}
    oidc.forget()


def person(email: str, *, verified: bool = True, **claims: Any) -> dict[str, Any]:
    """A person's claims at the provider."""
    return {"email": email, "email_verified": verified, **claims}


def _node() -> str:
    return shutil.which("node") or ""
