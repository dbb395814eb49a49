"""The orchestration engine: pure Python and asyncio. Nothing in this package imports Django,
Channels or Celery; the shell passes everything in (see ``interfaces``)."""

from .context import EngineOptions
from .runner import run_team

__all__ = ["EngineOptions", "run_team"]
