"""A diff under review is data, never code: its files cannot replace or reconfigure the checker
that scans them, and the checker runs isolated (no environment, resource limits, an
unprivileged user where the worker is root), so nothing of the worker's reaches the result."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.paths import DATA_DIR
from runs.engine.tools.sandbox import run_sandboxed
from tests.engine.helpers import run, server_models
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply
from tests.support.sandbox import nobody_can_run_python

SAMPLE = (DATA_DIR / "samples" / "code_review.diff").read_text()
EXPECTED = json.loads((DATA_DIR / "samples" / "code_review.expected.json").read_text())
ROOT = os.geteuid() == 0


def new_file(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def payload(proof: Path) -> str:
    """What an attacker's module does once imported: read the worker's secrets, leave proof
    and print them where the tool's result would show them."""
    return f"""import os, sys
try:
    leak = open(f"/proc/{{os.getppid()}}/environ", "rb").read().decode(errors="replace")
except OSError as exc:
    leak = repr(exc)
leak += repr(dict(os.environ))
open({str(proof)!r}, "w").write(leak)
print("PWNED " + leak)
sys.stderr.write("PWNED " + leak)
"""


def hostile_diff(proof: Path) -> str:
    """The sample diff, plus files that would replace bandit, hook every Python start-up and
    switch the checkers' rules off."""
    return SAMPLE + "".join(
        [
            new_file("bandit/__init__.py", "# replaces the real bandit package"),
            new_file("bandit/__main__.py", payload(proof)),
            new_file("sitecustomize.py", payload(proof)),
            new_file("usercustomize.py", payload(proof)),
            new_file("ruff.toml", '[lint]\nignore = ["ALL"]'),
            new_file("pyproject.toml", '[tool.ruff.lint]\nignore = ["ALL"]\n[tool.bandit]\nskips = ["B602", "B105", "B608", "B324"]'),
            new_file(".bandit", "[bandit]\nskips = B602,B105,B608,B324"),
        ]
    )  # fmt: skip


def worker_secrets() -> list[str]:
    """Values of this process's environment as /proc shows it (what the attack reads)."""
    raw = Path(f"/proc/{os.getpid()}/environ").read_bytes().decode(errors="replace")
    values = [item.partition("=")[2] for item in raw.split("\0") if "=" in item]
    return [v for v in values if len(v) >= 12]


@pytest.mark.parametrize("tool", ["security_scan_diff", "lint_diff"])
async def test_a_diff_cannot_replace_or_reconfigure_the_checker(
    openai_server, tmp_path: Path, tool: str
) -> None:
    proof = tmp_path / "proof.txt"
    # An agent reviewing the diff calls the scanner on it, as the code-review team does.
    openai_server.on(lambda r: r.turn == 1, Reply.calls((tool, {"diff": hostile_diff(proof)})))
    openai_server.on(lambda r: True, Reply.text("reviewed"))
    team = make_spec("supervisor", [make_agent("reviewer", model="test", tools=[tool])])

    outcome, sink = await run(team, "review", models=server_models(openai_server.base_url))

    assert outcome.status == "succeeded", outcome.reason
    [result] = sink.of("tool.result")
    assert result.payload["ok"] is True, result.payload["error"]
    # The diff's bandit/__main__.py and sitecustomize.py never ran...
    assert not proof.exists()
    shown = json.dumps(result.payload)
    assert "PWNED" not in shown
    assert not [secret for secret in worker_secrets() if secret in shown]
    # ...and its configuration switched nothing off: the sample's findings are all there.
    found = [
        {k: f[k] for k in ("file", "line", "rule")} for f in result.payload["result"]["findings"]
    ]
    assert all(expected in found for expected in EXPECTED[tool])
    # Only Python files reached the scratch copy (the configuration files are not checked).
    assert "ruff.toml" not in result.payload["result"]["files_checked"]


def sandbox_settings(**extra: Any) -> dict[str, Any]:
    return {"sandbox_user": "nobody", **extra}


async def test_a_program_gets_an_empty_environment_limits_and_an_unprivileged_user(
    tmp_path: Path,
) -> None:
    script = "env; echo cpu=$(ulimit -t) as=$(ulimit -v) fsize=$(ulimit -f); id -u"
    completed = await run_sandboxed(
        ["/bin/sh", "-c", script], cwd=Path("/"), settings=sandbox_settings(), timeout_s=30
    )

    lines = completed.stdout.splitlines()
    variables = {line.partition("=")[0] for line in lines[:-2]}
    assert variables <= {"PATH", "HOME", "LANG", "PWD", "SHLVL", "_", "OLDPWD"}
    assert "PATH=/usr/bin:/bin" in lines
    assert (
        lines[-2] == f"cpu=30 as={1024**3 // 1024} fsize={16 * 1024**2 // 512}"
    )  # dash counts 512-byte blocks
    assert int(lines[-1]) == (65534 if ROOT else os.getuid())


@pytest.mark.skipif(not ROOT, reason="a worker that is not root shares its user with checkers")
async def test_as_the_sandbox_user_a_program_cannot_read_the_workers_environment() -> None:
    completed = await run_sandboxed(
        ["/bin/cat", f"/proc/{os.getpid()}/environ"],
        cwd=Path("/"),
        settings=sandbox_settings(),
        timeout_s=30,
    )

    assert completed.returncode != 0 and "Permission denied" in completed.stderr
    assert completed.stdout == ""


async def test_a_program_that_overruns_is_killed() -> None:
    with pytest.raises(TimeoutError):
        await run_sandboxed(
            ["/bin/sh", "-c", "sleep 60 & sleep 60"],
            cwd=Path("/"),
            settings=sandbox_settings(),
            timeout_s=0.5,
        )


async def test_a_program_named_by_a_relative_path_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute path"):
        await run_sandboxed(["sh", "-c", "true"], cwd=Path("/"), settings={}, timeout_s=5)


@pytest.mark.skipif(not ROOT, reason="the user switch happens only where the worker is root")
async def test_a_sandbox_user_that_cannot_run_the_checker_fails_closed(
    context: ToolContext,
) -> None:
    context.settings["sandbox_user"] = "nobody"
    result = await builtin_registry().call("security_scan_diff", {"diff": SAMPLE}, context)

    if nobody_can_run_python():
        assert result.ok, result.error
    else:
        # Never silently as root: the operator is told what to change.
        assert not result.ok
        assert "as the sandbox user 'nobody'" in result.error
        assert "TOOLS_SANDBOX_USER" in result.error


@pytest.mark.skipif(not ROOT, reason="the user switch happens only where the worker is root")
async def test_an_unknown_sandbox_user_fails_closed(context: ToolContext) -> None:
    context.settings["sandbox_user"] = "no-such-user-here"
    result = await builtin_registry().call("lint_diff", {"diff": SAMPLE}, context)

    assert not result.ok
    assert "'no-such-user-here' does not exist" in result.error


def test_the_operator_setting_reaches_the_tools(settings, alice) -> None:
    from runs.wiring import tool_settings

    settings.TOOLS_SANDBOX_USER = "checker"
    assert tool_settings([alice.pk])[alice.pk]["sandbox_user"] == "checker"
