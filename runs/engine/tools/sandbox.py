"""How a tool starts a program (a checker such as ruff or bandit) on untrusted input.

The input (a diff's files) is data, never code, and the program must not be able to reach
anything of the worker's even if the input found a way to run code in it:

- the program is named by an absolute path, and Python ones run with ``-I`` (isolated: neither
  the working directory nor ``PYTHON*`` variables reach ``sys.path``), from a working
  directory that is not the folder holding the input, which the caller fills with only the
  file types the program checks (so no ``sitecustomize.py`` or ``bandit/__main__.py`` is
  imported and no ``pyproject.toml`` reconfigures it);
- its environment is empty but for ``PATH=/usr/bin:/bin`` and what the caller names;
- it has resource limits: CPU seconds, address space, file size, process count (set by
  util-linux's ``prlimit`` before it execs the program, or by ``preexec_fn`` without it);
- where the worker runs as root, it runs as an unprivileged user (``nobody`` unless the
  ``sandbox_user`` setting names another), which cannot read the worker's
  ``/proc/<pid>/environ`` or files, and can only read the input folder;
- it runs in its own process group, killed whole when its time is up.

It is not a container: the program still sees the file system as that user does, and the
network. docs/security.md says what this does and does not stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import resource
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .registry import ToolFailure

SAFE_PATH = "/usr/bin:/bin"
DEFAULT_USER = "nobody"
# util-linux's prlimit sets the limits and then execs the checker: no Python code runs between
# fork and exec (unsafe in a worker full of threads), and subprocess can use vfork. Where it is
# missing the limits are set by preexec_fn instead.
PRLIMIT = "/usr/bin/prlimit"


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 30
    memory_bytes: int = 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 64  # counted for the sandbox user, so only where the worker is root
    output_bytes: int = 4 * 1024**2  # of stdout and of stderr, read by the worker

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Limits:
        given = settings.get("sandbox_limits") or {}
        return cls(**{k: int(v) for k, v in given.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    name: str


def sandbox_identity(settings: dict[str, Any]) -> Identity | None:
    """Whom the program runs as: ``None`` (the worker's own user) unless the worker is root."""
    if os.geteuid() != 0:
        return None
    name = settings.get("sandbox_user", DEFAULT_USER)
    if not name:
        return None  # the operator chose to run checkers as root: see docs/security.md
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ToolFailure(
            f"The tool sandbox's user {name!r} does not exist on this worker. The operator "
            "should create it or set TOOLS_SANDBOX_USER to an unprivileged user that does."
        ) from None
    if entry.pw_uid == 0:
        raise ToolFailure("TOOLS_SANDBOX_USER names root; name an unprivileged user.")
    return Identity(entry.pw_uid, entry.pw_gid, name)


def share_with(folder: Path, identity: Identity | None) -> None:
    """Lets the sandbox user's group read (not write) ``folder``, which the worker made
    private; other users still cannot."""
    if identity is None:
        return
    for path in (folder, *folder.rglob("*")):
        os.chown(path, -1, identity.gid, follow_symlinks=False)
        path.chmod(0o750 if path.is_dir() else 0o640)


def _prlimit_argv(limits: Limits, count_processes: bool) -> list[str]:
    argv = [PRLIMIT, f"--cpu={limits.cpu_s}:{limits.cpu_s}",
            f"--as={limits.memory_bytes}:{limits.memory_bytes}",
            f"--fsize={limits.file_bytes}:{limits.file_bytes}", "--core=0:0"]  # fmt: skip
    if count_processes:
        argv.append(f"--nproc={limits.processes}:{limits.processes}")
    return [*argv, "--"]


def _apply_limits(limits: Limits, count_processes: bool) -> None:
    # Only where prlimit is missing. Runs in the child between fork and exec: resource calls
    # only, nothing that takes a lock another thread could hold.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if count_processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


async def run_sandboxed(
    argv: list[str],
    *,
    cwd: Path,
    settings: dict[str, Any],
    timeout_s: float,
    env: dict[str, str] | None = None,
) -> Completed:
    """Runs ``argv`` (``argv[0]`` an absolute path) isolated; kills it after ``timeout_s``."""
    if not os.path.isabs(argv[0]):
        raise ValueError(f"A sandboxed program is named by its absolute path, not {argv[0]!r}.")
    identity = sandbox_identity(settings)
    limits = Limits.from_settings(settings)
    options: dict[str, Any] = {}
    if identity is not None:
        options = {"user": identity.uid, "group": identity.gid, "extra_groups": []}
    counted = identity is not None
    if os.access(PRLIMIT, os.X_OK):
        command = [*_prlimit_argv(limits, counted), *argv]
    else:
        command = argv
        options["preexec_fn"] = lambda: _apply_limits(limits, counted)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env={"PATH": SAFE_PATH, "HOME": str(cwd), "LANG": "C.UTF-8", **(env or {})},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, killed whole
            **options,
        )
    except PermissionError as exc:
        raise ToolFailure(_cannot_run(argv[0], identity, exc.strerror or str(exc))) from exc
    try:
        stdout, stderr = await asyncio.wait_for(_read(process, limits.output_bytes), timeout_s)
    except BaseException:
        _kill_group(process)
        await process.wait()
        raise
    if command is not argv and process.returncode in (126, 127) and "prlimit:" in stderr:
        # prlimit could not exec the program: the same failure as a PermissionError above.
        raise ToolFailure(_cannot_run(argv[0], identity, stderr.strip().rpartition(": ")[2]))
    return Completed(process.returncode or 0, stdout, stderr)


async def _read(process: asyncio.subprocess.Process, cap: int) -> tuple[str, str]:
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = await asyncio.gather(
        _read_capped(process.stdout, cap), _read_capped(process.stderr, cap)
    )
    if not process.stdout.at_eof() or not process.stderr.at_eof():
        _kill_group(process)  # it says more than any checker needs to: stop it
    await process.wait()
    return stdout.decode(errors="replace"), stderr.decode(errors="replace")


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < cap:
        chunk = await stream.read(cap - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _cannot_run(program: str, identity: Identity | None, reason: str) -> str:
    who = f"the sandbox user {identity.name!r}" if identity else "the worker"
    return (
        f"The tool could not start {program} as {who} ({reason}). The operator should "
        "install it where that user can read and run it (with every directory above it), or "
        "set TOOLS_SANDBOX_USER to a user that can; see docs/security.md."
    )
