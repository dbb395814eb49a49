"""The code review template, run end to end on the offline model, names the sample diff's
actual ruff and bandit findings with file:line references."""

import json

from runs.engine.tools.paths import shipped

from .conftest import run_template

EXPECTED = json.loads(shipped("samples")["code_review.expected.json"].read_text())


def located(findings: list[dict]) -> set[tuple[str, int, str]]:
    return {(f["file"], f["line"], f["rule"]) for f in findings}


async def test_the_review_names_every_ruff_and_bandit_finding_of_the_sample() -> None:
    run = await run_template("code-review")

    assert run.outcome.status == "succeeded", run.outcome.reason
    review = run.outcome.output
    found = located(review["findings"])
    assert located(EXPECTED["lint_diff"]) <= found
    assert located(EXPECTED["security_scan_diff"]) <= found
    # Both scanners really ran on the diff, each in its own worker.
    called = {(e.agent, e.payload["tool"]) for e in run.of_type("tool.call")}
    assert {("static_analysis", "lint_diff"), ("security", "security_scan_diff")} <= called
    assert {e.payload["to"] for e in run.of_type("delegation")} == {
        "static_analysis", "security", "logic_review",
    }  # fmt: skip
