"""Shared by ``lint_diff`` and ``security_scan_diff``: apply a unified diff to a scratch copy
and run a checker on the Python files it changed.

The diff is applied in Python (whatthepatch), so a diff that does not apply is reported hunk by
hunk, and every path in it is checked to stay inside the scratch directory. Only the files the
checkers read (``.py``) are written: a diff's ``pyproject.toml``, ``ruff.toml`` or ``.bandit``
never reaches the scratch copy. Checkers run in the tool sandbox (``sandbox.py``): isolated,
by absolute path, on absolute file paths, from outside the scratch folder, with resource
limits and an empty environment, as an unprivileged user where the worker is root.
"""

from __future__ import annotations

import shutil
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
from .sandbox import Completed, run_sandboxed, sandbox_identity, share_with

MAX_FINDINGS = 200
MAX_DIFF_CHARS = 500_000
CHECKER_TIMEOUT_S = 50.0
CHECKED_SUFFIX = ".py"  # the only files written to the scratch copy


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

    def paths(self) -> list[str]:
        """The changed Python files by absolute path, for a checker's command line."""
        return [str(self.root / name) for name in self.python_files]

    def relative(self, filename: str) -> str:
        """A checker's (absolute) file name as the diff names it."""
        return Path(filename).resolve().relative_to(self.root.resolve()).as_posix()


def apply_to_scratch(diff: str, root: Path, base: Path | None) -> ScratchCopy:
    patches = [p for p in whatthepatch.parse_patch(diff) if p.header is not None]
    if not patches:
        raise ToolFailure(
            "That is not a unified diff: no '--- a/file' / '+++ b/file' headers were found."
        )
    if base is not None:
        shutil.copytree(base, root, dirs_exist_ok=True, ignore=_unchecked)
    scratch = ScratchCopy(root)
    for patch in patches:
        _apply_one(patch, scratch)
    return scratch


def _unchecked(folder: str, names: list[str]) -> set[str]:
    return {
        name
        for name in names
        if name == ".git" or (not name.endswith(CHECKED_SUFFIX) and not Path(folder, name).is_dir())
    }


def _apply_one(patch: Any, scratch: ScratchCopy) -> None:
    old_path, new_path = _relative(patch.header.old_path), _relative(patch.header.new_path)
    path = new_path or old_path
    if path is None:
        raise ToolFailure("A file in the diff has neither an old nor a new path.")
    target = _inside(scratch.root, path)
    if old_path is not None:
        _inside(scratch.root, old_path)
    if not path.endswith(CHECKED_SUFFIX) or (old_path and not old_path.endswith(CHECKED_SUFFIX)):
        return  # no checker reads it, and a config file must not reconfigure one
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
    if path not in scratch.python_files:
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


async def run_checker(argv: list[str], scratch: ScratchCopy, context: ToolContext) -> Completed:
    """Runs a checker in the sandbox from the scratch copy's parent folder, which holds
    nothing else: the scratch copy is read by path, never imported from."""
    return await run_sandboxed(
        argv, cwd=scratch.root.parent, settings=context.settings, timeout_s=CHECKER_TIMEOUT_S
    )


Checker = Callable[[ScratchCopy, ToolContext], Awaitable[list[dict[str, Any]]]]


async def scan_diff(args: DiffArgs, context: ToolContext, checker: Checker) -> dict[str, Any]:
    """Applies the diff and returns the checker's findings in the changed Python files, each
    with file, line, rule, message and whether the line is one the diff added."""
    base = None
    if args.base is not None:
        base = named("code base", args.base, {}, context.settings.get("code_bases") or {})
    with tempfile.TemporaryDirectory(prefix="diffscan-") as tmp:
        scratch = apply_to_scratch(args.diff, Path(tmp) / "files", base)
        share_with(Path(tmp), sandbox_identity(context.settings))
        findings = await checker(scratch, context) if scratch.python_files else []
    for finding in findings:
        finding["in_diff"] = finding["line"] in scratch.added_lines.get(finding["file"], ())
    findings.sort(key=lambda f: (f["file"], f["line"], f["rule"]))
    return {
        "files_checked": scratch.python_files,
        "finding_count": len(findings),
        "findings": findings[:MAX_FINDINGS],
        "truncated": len(findings) > MAX_FINDINGS,
    }
