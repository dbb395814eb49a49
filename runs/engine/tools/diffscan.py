"""Shared by ``lint_diff`` and ``security_scan_diff``: apply a unified diff to a scratch copy
and run a checker on the Python files it changed.

The diff is applied in Python (whatthepatch), so a diff that does not apply is reported hunk by
hunk, and every path in it is checked to stay inside the scratch directory. Checkers run as
subprocesses with an empty environment (no secrets of the worker reach them) and are killed
when the tool's time runs out.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import whatthepatch
from pydantic import BaseModel, Field
from whatthepatch.exceptions import HunkApplyException

from ..interfaces import ToolContext
from .paths import named
from .registry import ToolFailure

MAX_FINDINGS = 200
MAX_DIFF_CHARS = 500_000
CHECKER_TIMEOUT_S = 50.0


class DiffArgs(BaseModel):
    diff: str = Field(
        max_length=MAX_DIFF_CHARS,
        description="A unified diff (git diff format). New files need no base.",
    )
    base: str | None = Field(
        None,
        description="Name of the code base the diff applies to, if it changes existing files.",
    )


@dataclass
class ScratchCopy:
    root: Path
    python_files: list[str] = field(default_factory=list)  # changed, still present, relative
    added_lines: dict[str, set[int]] = field(default_factory=dict)


def apply_to_scratch(diff: str, root: Path, base: Path | None) -> ScratchCopy:
    patches = [p for p in whatthepatch.parse_patch(diff) if p.header is not None]
    if not patches:
        raise ToolFailure(
            "That is not a unified diff: no '--- a/file' / '+++ b/file' headers were found."
        )
    if base is not None:
        shutil.copytree(base, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    scratch = ScratchCopy(root)
    for patch in patches:
        _apply_one(patch, scratch)
    return scratch


def _apply_one(patch: Any, scratch: ScratchCopy) -> None:
    old_path, new_path = _relative(patch.header.old_path), _relative(patch.header.new_path)
    path = new_path or old_path
    if path is None:
        raise ToolFailure("A file in the diff has neither an old nor a new path.")
    target = _inside(scratch.root, path)
    old_lines: list[str] = []
    if old_path is not None:
        source = _inside(scratch.root, old_path)
        if not source.is_file():
            raise ToolFailure(
                f"The diff changes {old_path}, which is not in the code base. Name the code base "
                "it applies to with `base`, or send a diff that creates the file."
            )
        old_lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        new_lines = whatthepatch.apply_diff(patch, old_lines) if patch.changes else old_lines
    except HunkApplyException as exc:
        raise ToolFailure(f"The diff does not apply to {path}: {exc}.") from exc
    if new_path is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(new_lines) + "\n", encoding="utf-8")
    if path.endswith(".py"):
        scratch.python_files.append(path)
        scratch.added_lines[path] = {
            c.new for c in patch.changes or () if c.old is None and c.new is not None
        }


def _relative(path: str | None) -> str | None:
    if path is None or path == "/dev/null":
        return None
    parts = PurePosixPath(path).parts
    if parts and parts[0] in ("a", "b") and len(parts) > 1:
        parts = parts[1:]
    return str(PurePosixPath(*parts))


def _inside(root: Path, relative: str) -> Path:
    candidate = root / relative
    if PurePosixPath(relative).is_absolute() or ".." in PurePosixPath(relative).parts:
        raise ToolFailure(f"Refused the path {relative!r}: a diff may only touch files inside it.")
    if not candidate.resolve().is_relative_to(root.resolve()):
        raise ToolFailure(f"Refused the path {relative!r}: it leads outside the code base.")
    return candidate


async def run_checker(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Runs a checker with an empty environment; kills it if the tool is cancelled or slow."""
    env = {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.defpath, "HOME": str(cwd)}
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHECKER_TIMEOUT_S)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, stdout.decode(errors="replace"), stderr.decode(errors="replace")


Checker = Callable[[ScratchCopy], Awaitable[list[dict[str, Any]]]]


async def scan_diff(args: DiffArgs, context: ToolContext, checker: Checker) -> dict[str, Any]:
    """Applies the diff and returns the checker's findings in the changed Python files, each
    with file, line, rule, message and whether the line is one the diff added."""
    base = None
    if args.base is not None:
        base = named("code base", args.base, {}, context.settings.get("code_bases") or {})
    with tempfile.TemporaryDirectory(prefix="diffscan-") as tmp:
        scratch = apply_to_scratch(args.diff, Path(tmp), base)
        findings = await checker(scratch) if scratch.python_files else []
    for finding in findings:
        finding["in_diff"] = finding["line"] in scratch.added_lines.get(finding["file"], ())
    findings.sort(key=lambda f: (f["file"], f["line"], f["rule"]))
    return {
        "files_checked": scratch.python_files,
        "finding_count": len(findings),
        "findings": findings[:MAX_FINDINGS],
        "truncated": len(findings) > MAX_FINDINGS,
    }
