"""lint_diff and security_scan_diff apply a diff to a scratch copy and report ruff and bandit
findings with file, line and rule; a diff that does not apply is a clear failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.paths import DATA_DIR

SAMPLE = (DATA_DIR / "samples" / "code_review.diff").read_text()
EXPECTED = json.loads((DATA_DIR / "samples" / "code_review.expected.json").read_text())

MODIFYING_DIFF = """\
--- a/app/util.py
+++ b/app/util.py
@@ -1,3 +1,4 @@
+import os
 def greet(name):
     return "hello " + name
 
"""


@pytest.mark.parametrize("tool", ["lint_diff", "security_scan_diff"])
async def test_it_reports_the_known_findings_of_the_sample_diff(
    tool: str, context: ToolContext
) -> None:
    result = await builtin_registry().call(tool, {"diff": SAMPLE}, context)
    assert result.ok, result.error
    found = [{k: f[k] for k in ("file", "line", "rule")} for f in result.result["findings"]]
    assert found == EXPECTED[tool]
    assert all(f["in_diff"] and f["message"] for f in result.result["findings"])


async def test_the_sample_has_the_findings_a_reviewer_expects(context: ToolContext) -> None:
    # The code-review template relies on these: an unused import, a None comparison, a shell
    # injection, a hardcoded password, SQL built by string formatting and a weak hash.
    rules = {f["rule"] for findings in EXPECTED.values() for f in findings}
    assert {"F401", "E711", "B006", "B602", "B105", "B608", "B324"} <= rules


async def test_it_refuses_a_diff_that_does_not_apply(tmp_path: Path, context: ToolContext) -> None:
    base = tmp_path / "project"
    (base / "app").mkdir(parents=True)
    (base / "app" / "util.py").write_text("def greet(person):\n    return 'hi ' + person\n\n")
    context.settings["code_bases"] = {"project": str(base)}
    result = await builtin_registry().call(
        "lint_diff", {"diff": MODIFYING_DIFF, "base": "project"}, context
    )
    assert not result.ok
    assert "does not apply to app/util.py" in result.error
    assert (base / "app" / "util.py").read_text().startswith("def greet(person)")  # no write


async def test_it_lints_a_diff_against_a_named_code_base(
    tmp_path: Path, context: ToolContext
) -> None:
    base = tmp_path / "project"
    (base / "app").mkdir(parents=True)
    original = 'def greet(name):\n    return "hello " + name\n\n'
    (base / "app" / "util.py").write_text(original)
    context.settings["code_bases"] = {"project": str(base)}
    result = await builtin_registry().call(
        "lint_diff", {"diff": MODIFYING_DIFF, "base": "project"}, context
    )
    assert result.ok, result.error
    assert [(f["file"], f["line"], f["rule"]) for f in result.result["findings"]] == [
        ("app/util.py", 1, "F401")
    ]
    assert (base / "app" / "util.py").read_text() == original  # the scratch copy took the change


async def test_a_diff_that_names_a_missing_file_says_how_to_fix_it(context: ToolContext) -> None:
    result = await builtin_registry().call("security_scan_diff", {"diff": MODIFYING_DIFF}, context)
    assert not result.ok
    assert "not in the code base" in result.error and "base" in result.error


@pytest.mark.parametrize("path", ["../escape.py", "/etc/evil.py", "a/../../escape.py"])
async def test_it_refuses_paths_outside_the_scratch_copy(path: str, context: ToolContext) -> None:
    diff = f"--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+import os\n"
    result = await builtin_registry().call("lint_diff", {"diff": diff}, context)
    assert not result.ok
    assert "Refused the path" in result.error


async def test_text_that_is_not_a_diff_is_a_clear_failure(context: ToolContext) -> None:
    result = await builtin_registry().call("lint_diff", {"diff": "please review my code"}, context)
    assert not result.ok
    assert "not a unified diff" in result.error


async def test_suppression_comments_in_the_diff_do_not_hide_findings(context: ToolContext) -> None:
    diff = (
        "--- /dev/null\n+++ b/job.py\n@@ -0,0 +1,3 @@\n"
        "+import subprocess  # noqa\n+\n+subprocess.call('ls', shell=True)  # nosec\n"
    )
    lint = await builtin_registry().call("lint_diff", {"diff": diff}, context)
    scan = await builtin_registry().call("security_scan_diff", {"diff": diff}, context)
    assert lint.ok and scan.ok
    assert "B602" in {f["rule"] for f in scan.result["findings"]}


async def test_a_diff_with_no_python_files_has_no_findings(context: ToolContext) -> None:
    diff = "--- /dev/null\n+++ b/README.md\n@@ -0,0 +1 @@\n+# Hello\n"
    result = await builtin_registry().call("lint_diff", {"diff": diff}, context)
    assert result.ok
    assert result.result["files_checked"] == [] and result.result["findings"] == []
