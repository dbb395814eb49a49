"""``manage.py loadtemplates``: install the shipped templates as the gallery every user sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from teams.models import TeamTemplate
from teams.team_templates import (
    TEMPLATES_DIR,
    ShippedTemplate,
    TemplateError,
    problems_of,
    shipped,
)


class Command(BaseCommand):
    help = (
        "Install or update the team templates shipped in teams/team_templates/ and remove "
        "gallery entries whose folder is gone. Safe to run again: teams already made from "
        "a template are never changed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--directory",
            type=Path,
            default=TEMPLATES_DIR,
            help="Folder of template folders to install (default: the shipped ones).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            templates = shipped(options["directory"])
        except TemplateError as exc:
            raise CommandError(str(exc)) from exc
        for template in templates:
            self._refuse_if_invalid(template)
        with transaction.atomic():
            for template in templates:
                self._install(template)
            removed, _ = TeamTemplate.objects.exclude(slug__in=[t.slug for t in templates]).delete()
        self.stdout.write(f"{len(templates)} templates in the gallery, {removed} removed.")

    def _refuse_if_invalid(self, template: ShippedTemplate) -> None:
        errors = [p for p in problems_of(template.spec) if p.severity == "error"]
        if errors:
            listed = "; ".join(p.message for p in errors)
            raise CommandError(
                f"The template {template.slug!r} does not validate, nothing was installed: {listed}"
            )

    def _install(self, template: ShippedTemplate) -> None:
        values = {
            "name": template.name,
            "description": template.description,
            "pattern": template.pattern,
            "spec": template.document(),
            "sample_input": template.sample_input,
            "about": template.about,
            "position": template.position,
        }
        row = TeamTemplate.objects.filter(slug=template.slug).first()
        if row is None:
            TeamTemplate.objects.create(slug=template.slug, **values)
            verb = "installed"
        elif any(getattr(row, field) != value for field, value in values.items()):
            TeamTemplate.objects.filter(pk=row.pk).update(**values, updated_at=timezone.now())
            verb = "updated"
        else:
            verb = "unchanged"
        self.stdout.write(f"  {template.slug}: {verb}")
