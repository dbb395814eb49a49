"""Tools for tests of the tool pool. They live here, not in a test module, because a pool
child imports a tool's module to run it, and this one imports nothing of Django's."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from runs.engine.tools import Registry

OVERRUN_TIMEOUT_S = 4

registry = Registry()


class Pattern(BaseModel):
    text: str


@registry.tool("match_pattern", "Match a text.", timeout_s=OVERRUN_TIMEOUT_S, in_pool=True)
def match_pattern(args: Pattern, context: Any) -> dict:
    Path(context.settings["pid_file"]).write_text(str(os.getpid()))
    # Exponential backtracking inside the re module's C code: hours, never a bytecode boundary.
    return {"matched": bool(re.match(r"(a+)+$", args.text))}
