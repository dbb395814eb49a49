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


async def _bandit(scratch: ScratchCopy) -> list[dict[str, Any]]:
    # --ignore-nosec: a "# nosec" written by the diff's author does not hide a finding from
    # the reviewer of that diff.
    argv = [sys.executable, "-m", "bandit", "--format", "json", "--quiet", "--ignore-nosec",
            "--", *scratch.python_files]  # fmt: skip
    _, stdout, stderr = await run_checker(argv, scratch.root)
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        raise ToolFailure(f"bandit could not scan the files: {stderr.strip()[:500]}") from None
    findings = [
        {
            "file": item["filename"].removeprefix("./"),
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
        {"file": e["filename"].removeprefix("./"), "line": 0, "rule": "parse-error",
         "severity": "high", "confidence": "high", "message": e["reason"], "tool": "bandit"}
        for e in report.get("errors", [])
    ]  # fmt: skip
    return findings
