"""``manage.py evalteam TEAM_ID DATASET_ID``: run a team version over a dataset as an experiment,
wait for it, print each scorer's mean with its 95 % interval (and the difference from a
baseline experiment), and exit 1 when it is not good enough: the gate of a CI job.

Exit status: 0 good enough; 1 a scorer's mean is under ``--fail-under``, or the difference from
the ``--against`` baseline is below zero beyond its interval (the whole 95 % interval of the
paired difference is negative), or the experiment did not finish; 2 bad arguments.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, reverse
from pydantic import ValidationError

from runs.management.commands.runteam import find_user
from teams.models import Team
from workspaces import access

from ... import actions, comparison, judging, scorers, tasks
from ...models import Dataset, Experiment, ExperimentItem

POLL_S = 0.5


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def scorer_specs(given: list[str]) -> list[Any]:
    """``exact`` (a kind with no options) or a JSON object (``{"kind": "regex", ...}``)."""
    documents = []
    for text in given:
        text = text.strip()
        try:
            documents.append(json.loads(text) if text.startswith("{") else {"kind": text})
        except ValueError as exc:
            raise bad(f"--scorer {text!r} is not JSON: {exc}.") from None
    try:
        return scorers.SPECS.validate_python(documents)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "the scorer"
        number = int(first["loc"][0]) + 1 if first["loc"] else 1
        raise bad(
            f"--scorer number {number} ({given[number - 1]!r}): {where}: {first['msg']}"
        ) from None


class Command(BaseCommand):
    help = (
        "Run a team version over a dataset (an experiment, on this deployment's workers), "
        "print each scorer's mean with its 95% interval, and exit 1 when a mean is under "
        "--fail-under or worse than the --against experiment beyond its interval; 2 on bad "
        "arguments."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version is the team's version here, as in the API, not Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("team_id", help="The team's id.")
        parser.add_argument("dataset_id", help="The dataset's id (in the team's workspace).")
        parser.add_argument("--version", type=int, help="Team version (default: the current one).")
        parser.add_argument(
            "--scorer",
            action="append",
            default=[],
            help='A scorer: a kind (exact) or JSON ({"kind": "json_equal", "fields": ["x"]}); '
            "repeat for more. Default: the --against experiment's scorers.",
        )
        parser.add_argument(
            "--fail-under", type=float, help="Exit 1 when a scorer's mean is under this (0..1)."
        )
        parser.add_argument(
            "--against", help="A finished experiment of the same dataset to compare with."
        )
        parser.add_argument(
            "--replay",
            help="Answer model calls from the cassette this experiment recorded (no key, no cost).",
        )
        parser.add_argument(
            "--on-miss",
            choices=["live", "fail"],
            default="fail",
            help="With --replay, a request the cassette lacks: call the model, or fail the item"
            " (a judge's request: its score).",
        )
        parser.add_argument(
            "--record", action="store_true", help="Record the model answers in a cassette."
        )
        parser.add_argument("--concurrency", type=int, default=4, help="Runs in flight at once.")
        parser.add_argument(
            "--as", dest="starter", help="Start it as this member (default: the team's maker)."
        )
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="Seconds to wait (then cancel, exit 1)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        experiment, baseline, bar = self.start(**options)
        self.stderr.write(f"Experiment {experiment.pk}: {page(experiment)}")
        finished = self.wait(experiment, options["timeout"])
        code = self.report(finished, baseline, bar)
        if code:
            sys.exit(code)

    def start(self, **options: Any) -> tuple[Experiment, Experiment | None, float | None]:
        team = (
            Team.objects.select_related("workspace")
            .filter(pk=number(options["team_id"], "TEAM_ID"))
            .first()
        )
        if team is None:
            raise bad(f"No team has id {options['team_id']}.")
        dataset = Dataset.objects.filter(pk=number(options["dataset_id"], "DATASET_ID")).first()
        if dataset is None:
            raise bad(f"No dataset has id {options['dataset_id']}.")
        if dataset.workspace_id != team.workspace_id:
            raise bad("The dataset and the team are in different workspaces.")
        version = team.versions.filter(number=options["version"] or team.version).first()
        if version is None:
            raise bad(f"Team {team.pk} has no version {options['version']}.")
        if not version.is_valid:
            raise bad(f"Version {version.number} of team {team.pk} has problems.")
        bar = options["fail_under"]
        if bar is not None and not 0 <= bar <= 1:
            raise bad(f"--fail-under is {bar}: give a score from 0 to 1.")
        if not 1 <= options["concurrency"] <= 200:
            raise bad(f"--concurrency is {options['concurrency']}: give 1 to 200.")
        baseline = None
        if options["against"] is not None:
            baseline = Experiment.objects.filter(
                pk=number(options["against"], "--against"), workspace=team.workspace
            ).first()
            if baseline is None:
                raise bad(f"No experiment {options['against']} in the team's workspace.")
            if baseline.status != Experiment.Status.FINISHED:
                raise bad(f"Experiment {baseline.pk} is {baseline.status}, not finished.")
        specs = scorer_specs(options["scorer"])
        if not specs and baseline is not None:
            specs = scorers.SPECS.validate_python(baseline.scorers)
        if not specs:
            raise bad("Give at least one --scorer (or --against, to use its scorers).")
        owner = team.owner if options["starter"] is None else find_starter(options["starter"])
        try:
            # The API's row for starting an experiment (the action checks run.start too).
            access.check(owner, team.workspace, "experiment.start")
            tape = None
            if options["replay"] is not None or options["record"]:
                replay = (
                    None if options["replay"] is None else number(options["replay"], "--replay")
                )
                given = actions.CassetteIn(
                    record=options["record"], replay=replay, on_miss=options["on_miss"]
                )
                tape = actions.replay_tape(owner, team.workspace, given)
            experiment = actions.do_start_experiment(
                owner, version, dataset, specs, options["concurrency"], tape
            )
        except actions.Problems as exc:
            raise bad(f"{exc.detail} {exc.problems[:3] if exc.problems else ''}".strip()) from None
        except (judging.UnknownModel, access.Forbidden) as exc:
            raise bad(str(exc)) from None
        except access.NotFound:
            raise bad(f"{owner} is not a member of the team's workspace.") from None
        tasks.advance_soon(experiment.pk)
        return experiment, baseline, bar

    def wait(self, experiment: Experiment, timeout_s: float) -> Experiment:
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                experiment.refresh_from_db()
                if experiment.status != Experiment.Status.RUNNING:
                    return experiment
                if time.monotonic() > deadline:
                    self.stderr.write(f"Not finished after {timeout_s:g} s: cancelling it.")
                    return actions.do_cancel(experiment, "evalteam (timeout)")
                if self.stderr.isatty():
                    p = actions.progress(experiment)
                    self.stderr.write(f"\r{p['done']}/{p['total']} done", ending="")
                time.sleep(POLL_S)
        except KeyboardInterrupt:
            self.stderr.write("\nCancelling the experiment…")
            return actions.do_cancel(experiment, "evalteam (interrupted)")

    def report(self, experiment: Experiment, baseline: Experiment | None, bar: float | None) -> int:
        done = list(
            experiment.items.filter(status=ExperimentItem.Status.DONE).values_list(
                "scores", flat=True
            )
        )
        means = comparison.summary(done)
        against = comparison.compare(baseline, experiment)["scorers"] if baseline else {}
        progress = actions.progress(experiment)
        failures: list[str] = []
        rows = [
            ["scorer", "mean", "95% interval"]
            + (["baseline", "delta", "delta 95%"] if baseline else [])
            + ["verdict"]
        ]
        for name, s in means.items():
            verdict = "ok"
            if bar is not None and s["mean"] < bar:
                verdict = f"under {bar:g}"
                failures.append(f"{name}: mean {s['mean']:.3f} is under {bar:g}")
            row = [name, f"{s['mean']:.3f}", f"[{s['low']:.3f}, {s['high']:.3f}]"]
            if baseline:
                d = against.get(name)
                if d is None:
                    row += ["-", "-", "-"]
                else:
                    row += [f"{d['a']['mean']:.3f}", f"{d['difference']:+.3f}",
                            f"[{d['difference_low']:+.3f}, {d['difference_high']:+.3f}]"]  # fmt: skip
                    if d["difference_high"] < 0:
                        verdict = "worse" if verdict == "ok" else f"{verdict}, worse"
                        failures.append(
                            f"{name}: {d['difference']:+.3f} against experiment {baseline.pk}, "
                            f"below zero beyond its interval"
                        )
            rows.append([*row, verdict])
        self.stdout.write(table(rows))
        self.stdout.write(
            f"{progress['done']}/{progress['total']} items done, {progress['failed']} runs failed, "
            f"${float(actions.cost(experiment)):.4f}; experiment {experiment.pk} {experiment.status}."
        )
        if experiment.status != Experiment.Status.FINISHED:
            failures.append(f"the experiment was {experiment.status}")
        if failures:
            self.stdout.write("FAIL: " + "; ".join(failures) + ".")
            return 1
        self.stdout.write("PASS")
        return 0


def number(text: str, name: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise bad(f"{name} must be a number, not {text!r}.") from None


def find_starter(username: str) -> Any:
    try:
        return find_user(username)
    except CommandError as exc:
        raise bad(str(exc)) from None


def page(experiment: Experiment) -> str:
    try:
        path = reverse("experiment-detail", args=[experiment.pk])
    except NoReverseMatch:
        path = f"/api/experiments/{experiment.pk}"
    return settings.SITE_URL.rstrip("/") + path


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
