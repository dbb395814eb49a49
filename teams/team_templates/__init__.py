"""The templates shipped with the product, read from the folders next to this file.

Each ``<slug>/`` folder holds:

- ``team.json``: the TeamSpec, with ``"position"`` (order in the gallery) beside it at the
  top level, removed before parsing;
- ``input.json``: a sample run input, which becomes the first ``examples`` entry of the
  spec's ``input_schema`` so the run form of a team made from the template starts filled in;
- ``about.md``: what the template does and how to adapt it, shown in the gallery;
- any sample data only that template needs.

Nothing here touches the database: ``manage.py loadtemplates`` installs what ``shipped()``
returns as ``TeamTemplate`` rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from pydantic import ValidationError

from runs.engine.tools import builtin_registry
from teams.spec import TeamSpec, dump, parse
from teams.validation import Problem, ValidationContext, validate

TEMPLATES_DIR = Path(__file__).resolve().parent


class TemplateError(Exception):
    """A shipped template folder is broken; the message names the file and the problem."""


@dataclass(frozen=True)
class ShippedTemplate:
    slug: str
    position: int
    spec: TeamSpec
    sample_input: dict[str, Any]
    about: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def pattern(self) -> str:
        return self.spec.pattern

    def document(self) -> dict[str, Any]:
        return dump(self.spec)


def shipped(directory: Path = TEMPLATES_DIR) -> list[ShippedTemplate]:
    """Every template folder under ``directory``, in gallery order."""
    folders = sorted(p for p in directory.iterdir() if (p / "team.json").is_file())
    return sorted((load(folder) for folder in folders), key=lambda t: (t.position, t.slug))


def load(folder: Path) -> ShippedTemplate:
    document = _read_json(folder / "team.json")
    position = document.pop("position", 0)
    sample_input = _read_json(folder / "input.json")
    try:
        spec = parse(document)
    except (ValidationError, ValueError) as exc:
        raise TemplateError(f"{folder / 'team.json'} is not a valid team: {exc}") from exc
    spec = _with_example(spec, sample_input)
    about_path = folder / "about.md"
    about = about_path.read_text(encoding="utf-8") if about_path.is_file() else ""
    return ShippedTemplate(folder.name, int(position), spec, sample_input, about)


def problems_of(spec: TeamSpec) -> list[Problem]:
    """What the validator finds wrong with ``spec``, checked against the built-in tools only:
    a template may use nothing else, since every installation has them and nothing more."""
    context = ValidationContext(known_tools=frozenset(builtin_registry().names()))
    return validate(spec, context)


def render_about(markdown: str) -> str:
    """A template's description as HTML. Raw HTML in the Markdown is escaped, not passed on."""
    return _MARKDOWN.render(markdown)


_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def _with_example(spec: TeamSpec, sample_input: dict[str, Any]) -> TeamSpec:
    schema = dict(spec.input_schema or {"type": "object"})
    schema["examples"] = [sample_input]
    return spec.model_copy(update={"input_schema": schema})


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TemplateError(f"{path} is missing.") from exc
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"{path} must hold a JSON object.")
    return data
