"""Include a built front-end entry (frontend/src/entries/<name>.tsx) in a Django template."""

import json
from functools import cache
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join

register = template.Library()

MANIFEST = settings.BASE_DIR / "static" / "app" / ".vite" / "manifest.json"


@cache
def _manifest_cached() -> dict[str, Any]:
    return _manifest_read()


def _manifest_read() -> dict[str, Any]:
    if not MANIFEST.exists():
        raise template.TemplateSyntaxError(
            "The front end is not built: run `make assets` (make run and make test do it)."
        )
    data: dict[str, Any] = json.loads(MANIFEST.read_text())
    return data


@register.simple_tag
def vite_entry(name: str) -> str:
    manifest = _manifest_read() if settings.DEBUG else _manifest_cached()
    chunk = manifest[f"src/entries/{name}.tsx"]
    styles = list(chunk.get("css", []))
    for imported in chunk.get("imports", []):
        styles.extend(manifest[imported].get("css", []))
    links = format_html_join(
        "", '<link rel="stylesheet" href="{}">', ((static(f"app/{css}"),) for css in styles)
    )
    script = format_html('<script type="module" src="{}"></script>', static(f"app/{chunk['file']}"))
    return links + script
