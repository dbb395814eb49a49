"""``security_scan_diff``: bandit on the Python files a diff changes."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..interfaces import ToolContext
from .builtin_tools import registry
from .diffscan import DiffArgs, ScratchCopy, run_checker, scan_diff
from .registry import ToolFailure


@registry.tool(
    "security_scan_diff",
    "Apply a unified diff to a scratch copy and scan the changed Python files with bandit. "
    "Returns findings with file, line, rule, severity, confidence and message.",
    timeout_s=60,
)
async def security_scan_diff(args: DiffArgs, context: ToolContext) -> dict[str, Any]:
    return await scan_diff(args, context, _bandit)


async def _bandit(scratch: ScratchCopy, context: ToolContext) -> list[dict[str, Any]]:
    # -I: isolated, so a diff's bandit/__main__.py or sitecustomize.py is never imported.
    # --ignore-nosec: a "# nosec" written by the diff's author does not hide a finding from
    # the reviewer of that diff.
    argv = [sys.executable, "-I", "-m", "bandit", "--format", "json", "--quiet",
            "--ignore-nosec", "--", *scratch.paths()]  # fmt: skip
    completed = await run_checker(argv, scratch, context)
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        problem = completed.stderr.strip()[:500]
        raise ToolFailure(f"bandit could not scan the files: {problem}") from None
    findings = [
        {
            "file": scratch.relative(item["filename"]),
            "line": item["line_number"],
            "rule": item["test_id"],
            "name": item["test_name"],
            "severity": item["issue_severity"].lower(),
            "confidence": item["issue_confidence"].lower(),
            "message": item["issue_text"],
            "tool": "bandit",
        }
        for item in report.get("results", [])
    ]
    findings += [
        {"file": scratch.relative(e["filename"]), "line": 0, "rule": "parse-error",
         "severity": "high", "confidence": "high", "message": e["reason"], "tool": "bandit"}
        for e in report.get("errors", [])
    ]  # fmt: skip
    return findings
