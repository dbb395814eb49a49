"""A run's artifacts are written by models and remote tools, so nothing in one may run on the
app's origin: only passive images are served inline, everything else is a download that cannot
execute or be sniffed, and only the run's owner gets either."""

import re
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client

from runs.models import Artifact
from runs.wiring import RunArtifacts
from tests.factories import make_run

pytestmark = pytest.mark.django_db

POLICY = "default-src 'none'; sandbox"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def save(owner: Any, name: str, data: bytes, content_type: str) -> Artifact:
    """An artifact as a run's tool saves one."""
    return RunArtifacts(make_run(owner))._save(name, data, content_type)


def filename_in(disposition: str) -> str:
    """The file name a client reads from a Content-Disposition header (RFC 6266)."""
    if match := re.fullmatch(r"\w+; filename\*=utf-8''([!#$&+\-.^_`|~0-9A-Za-z%]+)", disposition):
        return unquote(match[1])
    match = re.fullmatch(r'\w+; filename="((?:[^"\\]|\\.)*)"', disposition)
    assert match, f"not a well-formed Content-Disposition: {disposition!r}"
    return re.sub(r"\\(.)", r"\1", match[1])


@pytest.mark.parametrize(
    "name, data, content_type",
    [
        ("report.html", b"<script>fetch('/api/runs')</script>", "text/html"),
        ("report.html", b"<script>alert(1)</script>", "TEXT/HTML; charset=utf-8"),
        ("chart.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
        ("steal.js", b"fetch('/api/runs')", "application/javascript"),
    ],
)  # fmt: skip
def test_it_serves_active_content_as_a_download_that_cannot_run(
    alice_client: Client, alice: Any, name: str, data: bytes, content_type: str
) -> None:
    artifact = save(alice, name, data, content_type)

    response = alice_client.get(f"/api/artifacts/{artifact.id}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == POLICY
    assert b"".join(response.streaming_content) == data


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "image/gif", "image/webp"])
def test_it_serves_passive_images_inline(
    alice_client: Client, alice: Any, content_type: str
) -> None:
    artifact = save(alice, "chart", b"\x89PNG fake", content_type)

    response = alice_client.get(f"/api/artifacts/{artifact.id}")

    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert response["Content-Disposition"] == 'inline; filename="chart"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == POLICY
    assert b"".join(response.streaming_content) == b"\x89PNG fake"


def test_it_tells_the_run_page_which_artifacts_it_may_show(
    alice_client: Client, alice: Any
) -> None:
    run = make_run(alice)
    RunArtifacts(run)._save("chart.png", b"\x89PNG fake", "image/png")
    RunArtifacts(run)._save("chart.svg", b"<svg/>", "image/svg+xml")

    listed = alice_client.get(f"/api/runs/{run.id}").json()["artifacts"]

    assert [(a["name"], a["inline"]) for a in listed] == [("chart.png", True), ("chart.svg", False)]


@pytest.mark.parametrize(
    "name, sent_as",
    [
        ('say "hi".html', 'say "hi".html'),
        ("two\nlines.html", "two_lines.html"),
        ("report.html\r\nSet-Cookie: sessionid=x", "report.html__Set-Cookie: sessionid=x"),
        ("résumé.pdf", "résumé.pdf"),
        ("invoice\u202egnp.exe", "invoice_gnp.exe"),
        ("reports/q1.html", "reports_q1.html"),
        ("..", "artifact"),
    ],
)  # fmt: skip
def test_it_names_the_download_in_a_well_formed_header(
    alice_client: Client, alice: Any, name: str, sent_as: str
) -> None:
    artifact = save(alice, name, b"data", "text/html")

    response = alice_client.get(f"/api/artifacts/{artifact.id}")

    disposition = response["Content-Disposition"]
    assert response.status_code == 200 and disposition.startswith("attachment;")
    assert disposition.isascii() and disposition.isprintable()
    assert filename_in(disposition) == sent_as
    assert "sessionid" not in response.cookies


def test_it_serves_an_artifact_to_its_owner_only(
    alice: Any, bob: Any, alice_client: Client
) -> None:
    artifact = save(alice, "report.html", b"<p>secret</p>", "text/html")

    bobs_client = Client()
    bobs_client.force_login(bob)

    # Bob is told nothing exists, and alice still gets the file.
    assert bobs_client.get(f"/api/artifacts/{artifact.id}").status_code == 404
    assert alice_client.get(f"/api/artifacts/{artifact.id}").status_code == 200
