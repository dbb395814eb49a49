"""``manage.py loadtemplates`` installs the gallery, updates it, and refuses a broken one."""

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from teams.models import TeamTemplate
from teams.team_templates import TEMPLATES_DIR
from tests.factories import install_templates

pytestmark = pytest.mark.django_db


def copy_of_shipped(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def load_from(directory: Path) -> str:
    out = StringIO()
    call_command("loadtemplates", directory=directory, stdout=out)
    return out.getvalue()


def test_it_installs_every_template_with_its_sample_input() -> None:
    printed = install_templates()
    assert "4 templates in the gallery" in printed
    assert printed.count(": installed") == 4
    review = TeamTemplate.objects.get(slug="code-review")
    assert review.pattern == "supervisor"
    assert "diff --git a/shop/reports.py" in review.sample_input["diff"]
    assert review.spec["input_schema"]["examples"] == [review.sample_input]


def test_make_runs_bootstrap_installs_the_gallery() -> None:
    # `make run` calls `manage.py bootstrap`, which calls loadtemplates.
    call_command("bootstrap", stdout=StringIO())
    assert set(TeamTemplate.objects.values_list("slug", flat=True)) == {
        "code-review", "monthly-close", "content-production", "support-triage",
    }  # fmt: skip


def test_running_it_again_changes_nothing() -> None:
    install_templates()
    before = list(TeamTemplate.objects.values("pk", "slug", "spec", "updated_at"))
    printed = install_templates()
    assert list(TeamTemplate.objects.values("pk", "slug", "spec", "updated_at")) == before
    assert printed.count(": unchanged") == 4


def test_it_updates_a_changed_template_and_removes_a_deleted_one(tmp_path: Path) -> None:
    directory = copy_of_shipped(tmp_path)
    load_from(directory)
    # A new release renames one template and drops another.
    team_file = directory / "code-review" / "team.json"
    document = json.loads(team_file.read_text())
    document["name"] = "Pull request review"
    team_file.write_text(json.dumps(document))
    shutil.rmtree(directory / "monthly-close")

    printed = load_from(directory)

    assert "1 removed" in printed
    assert "code-review: updated" in printed
    assert TeamTemplate.objects.get(slug="code-review").name == "Pull request review"
    assert not TeamTemplate.objects.filter(slug="monthly-close").exists()


def test_a_broken_template_is_named_and_nothing_is_installed(tmp_path: Path) -> None:
    directory = copy_of_shipped(tmp_path)
    (directory / "support-triage" / "team.json").write_text('{"pattern": "swarm", "nodes": [')

    with pytest.raises(CommandError, match=r"support-triage.*team\.json is not JSON"):
        load_from(directory)

    assert TeamTemplate.objects.count() == 0


def test_a_template_that_does_not_validate_is_refused(tmp_path: Path) -> None:
    install_templates()
    directory = copy_of_shipped(tmp_path)
    team_file = directory / "code-review" / "team.json"
    document = json.loads(team_file.read_text())
    document["nodes"][1]["tools"] = ["no_such_tool"]
    team_file.write_text(json.dumps(document))

    with pytest.raises(CommandError, match=r"'code-review' does not validate.*no_such_tool"):
        load_from(directory)

    # The gallery already installed is left as it was.
    assert TeamTemplate.objects.count() == 4
    assert "lint_diff" in json.dumps(TeamTemplate.objects.get(slug="code-review").spec)
