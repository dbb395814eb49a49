"""Where the tools' shipped data lives, and how names from a model become paths safely."""

from __future__ import annotations

import re
from pathlib import Path

from .registry import ToolFailure

DATA_DIR = Path(__file__).parent / "data"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def named(kind: str, name: str, shipped: dict[str, Path], configured: dict[str, str]) -> Path:
    """The path of a dataset, collection or code base the model asked for by name.

    Names come from a model, so they are looked up, never joined into a path: an operator's
    ``configured`` entries (from settings) first, then what ships with the product.
    """
    if name in configured:
        return Path(configured[name])
    if _NAME.match(name) and name in shipped:
        return shipped[name]
    available = ", ".join(sorted({*configured, *shipped})) or "none"
    raise ToolFailure(f"There is no {kind} named {name!r}. Available: {available}.")


def shipped(subdir: str, suffix: str = "") -> dict[str, Path]:
    """What ships in ``data/<subdir>``, by name (the file name without ``suffix``)."""
    root = DATA_DIR / subdir
    return {
        p.name.removesuffix(suffix): p
        for p in sorted(root.iterdir())
        if not p.name.startswith(".") and p.name.endswith(suffix)
    }
