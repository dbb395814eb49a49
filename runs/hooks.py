"""Extension points of the run shell, filled by other apps from their ``AppConfig.ready`` with
dotted paths: the runs app imports none of those apps, and registering loads nothing, so an
app's start-up stays light (a process that never executes a run imports no run shell, Redis
client or OpenTelemetry SDK for it).

- ``ON_ENDED``: each told, after the commit and on a database thread, of the runs that ended
  (or paused) in a round (``runs.shell.finishes``); the evaluations app moves their
  experiments on at once instead of at its next poll. A hook's failure is logged and is never
  the run's.
- ``MODEL_WRAPPERS``: each given the runs being claimed and their workspaces' model
  registries, answering {run id: registry} for the runs it wraps (``runs.wiring.models_of``);
  the evaluations app puts its cassettes here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

ON_ENDED: list[str] = []
MODEL_WRAPPERS: list[str] = []


def register(hooks: list[str], path: str) -> None:
    if path not in hooks:
        hooks.append(path)


@functools.cache
def resolved(path: str) -> Callable[..., Any]:
    return import_string(path)
