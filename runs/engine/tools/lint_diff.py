"""``lint_diff``: ruff on the Python files a diff changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruff.__main__ import find_ruff_bin

from ..interfaces import ToolContext
from .builtin_tools import registry
from .diffscan import DiffArgs, ScratchCopy, run_checker, scan_diff
from .registry import ToolFailure

# pycodestyle errors, pyflakes, bugbear and pyupgrade, without line length: the findings a
# reviewer would comment on. --isolated: configuration inside the diff is not trusted, and
# --ignore-noqa: neither are suppression comments in the code under review.
RUFF_RULES = "E,F,W,B,UP"
RUFF_IGNORED = "E501"


@registry.tool(
    "lint_diff",
    "Apply a unified diff to a scratch copy and lint the changed Python files with ruff. "
    "Returns findings with file, line, rule and message.",
    timeout_s=60,
)
async def lint_diff(args: DiffArgs, context: ToolContext) -> dict[str, Any]:
    return await scan_diff(args, context, _ruff)


async def _ruff(scratch: ScratchCopy, context: ToolContext) -> list[dict[str, Any]]:
    argv = [str(Path(find_ruff_bin()).absolute()), "check", "--isolated", "--no-cache",
            "--ignore-noqa", "--output-format", "json", "--select", RUFF_RULES,
            "--ignore", RUFF_IGNORED, "--", *scratch.paths()]  # fmt: skip
    completed = await run_checker(argv, scratch, context)
    if completed.returncode not in (0, 1):
        problem = completed.stderr.strip()[:500]
        raise ToolFailure(f"ruff could not check the files: {problem}")
    return [
        {
            "file": scratch.relative(item["filename"]),
            "line": item["location"]["row"],
            "column": item["location"]["column"],
            "rule": item["code"] or "syntax-error",
            "message": item["message"],
            "tool": "ruff",
        }
        for item in json.loads(completed.stdout or "[]")
    ]
