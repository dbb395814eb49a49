"""Every state change of datasets and experiments: the API, the tasks and the management
commands call these and change nothing themselves.

An experiment moves forward by ``do_advance``: under its row lock it scores the items whose
runs ended, starts pending items until ``concurrency`` runs are in flight, and finishes it
when nothing is left; items that wait for a judge are marked ``scoring`` under a lease and
judged after the lock is released (``score_held``). It is idempotent (a second call at the
same moment waits for the lock and finds nothing to do), so it may be called as often as
anyone likes: after every creation, by the chain of ``evaluations.tasks.advance`` calls
while it is running, and by the periodic sweep that takes up experiments whose chain died
with a worker.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pydantic import BaseModel, Field, ValidationError, field_validator

from runs import quotas
from runs.actions import cancel_run, input_problems, may_start, new_runs
from runs.api import not_null
from runs.execution import enqueue_many
from runs.models import Run
from teams.models import TeamVersion
from teams.services import too_deep, unstorable
from workspaces import access
from workspaces.models import Workspace

from . import judging, live, scorers
from .models import Cassette, Dataset, DatasetItem, Experiment, ExperimentItem, runs_started_by

log = logging.getLogger(__name__)

MAX_ITEMS = 10_000
#: Items one JSON request may add (more: upload a file).
MAX_ITEMS_PER_REQUEST = 500


class ItemIn(BaseModel):
    input: Any = Field(..., description="The task, as a run of the team would get it.")
    expected: Any = Field(None, description="The output a right answer gives; none if omitted.")
    tags: list[Annotated[str, Field(max_length=60)]] = Field(default_factory=list, max_length=20)

    _input_not_null = field_validator("input")(not_null)


class BadRows(ValueError):
    """An upload with rows that are not items: ``problems`` names each line."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} rows of the upload are not items.")
        self.problems = problems


# --- datasets ----------------------------------------------------------------------------


def do_create_dataset(owner: Any, workspace: Workspace, name: str, description: str) -> Dataset:
    return Dataset.objects.create(
        owner=owner, workspace=workspace, name=name, description=description
    )


def do_add_items(
    dataset: Dataset, items: Sequence[ItemIn], source_runs: Sequence[Run | None] = ()
) -> list[DatasetItem]:
    """Add ``items`` as one new version of ``dataset``."""
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if locked.items_at().count() + len(items) > MAX_ITEMS:
            raise BadRows(
                [{"line": None, "message": f"A dataset holds at most {MAX_ITEMS} items."}]
            )
        locked.version += 1
        locked.save(update_fields=["version"])
        runs = list(source_runs) or [None] * len(items)
        made = DatasetItem.objects.bulk_create(
            DatasetItem(
                dataset=locked,
                input=i.input,
                expected=i.expected,
                tags=i.tags,
                source_run=run,
                added_in=locked.version,
            )
            for i, run in zip(items, runs, strict=True)
        )
    dataset.version = locked.version
    return made


def do_replace_item(dataset: Dataset, item_id: int, new: ItemIn | None) -> DatasetItem | None:
    """Retire the item (in a new version), and add ``new`` in its place unless None."""
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        old = locked.items_at().filter(pk=item_id).first()
        if old is None:
            return None
        locked.version += 1
        locked.save(update_fields=["version"])
        DatasetItem.objects.filter(pk=old.pk).update(retired_in=locked.version)
        made = None
        if new is not None:
            made = DatasetItem.objects.create(
                dataset=locked, input=new.input, expected=new.expected, tags=new.tags,
                added_in=locked.version,
            )  # fmt: skip
    dataset.version = locked.version
    return made or old


def _item(document: Any, line: int) -> ItemIn:
    try:
        return ItemIn.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the row"
        raise BadRows([{"line": line, "message": f"{where}: {first['msg']}"}]) from None


def _cell(text: str) -> Any:
    """A CSV cell: JSON when it parses as JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_upload(content: bytes, fmt: str) -> list[ItemIn]:
    """The items of a JSONL or CSV upload; ``BadRows`` naming every line that is not one."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRows([{"line": None, "message": "The file is not UTF-8 text."}]) from None
    items: list[ItemIn] = []
    problems: list[dict[str, Any]] = []
    rows: Iterable[tuple[int, Any]]
    rows = _jsonl_rows(text, problems) if fmt == "jsonl" else _csv_rows(text, problems)
    for count, (line, document) in enumerate(rows, start=1):
        if count > MAX_ITEMS:  # read no further than any dataset could hold
            message = f"A dataset holds at most {MAX_ITEMS} items; the file has more."
            raise BadRows([{"line": line, "message": message}])
        if document is _REFUSED:
            continue
        # Multipart, so the JSON body middleware never saw it: the same rules here.
        if problem := unstorable(document):
            problems.append({"line": line, "message": problem.message})
            continue
        try:
            items.append(_item(document, line))
        except BadRows as exc:
            problems.extend(exc.problems)
    if problems:
        raise BadRows(problems)
    if not items:
        raise BadRows([{"line": None, "message": "The file holds no items."}])
    return items


#: What a row reader yields for a row it refused (the problem is in its list): every row
#: counts towards the cap, so a file of bad lines is not read to its end either.
_REFUSED = object()


def _jsonl_rows(text: str, problems: list[dict[str, Any]]) -> Iterable[tuple[int, Any]]:
    # Line by line as read (not a list of every line first), split at \n, \r\n or \r only:
    # a JSON string may hold U+2028, which str.splitlines() would also split at.
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except ValueError as exc:
            problems.append({"line": number, "message": f"Not JSON: {exc.msg}."})
            document = _REFUSED
        except RecursionError:  # nested past Python's stack
            problems.append({"line": number, "message": too_deep().message})
            document = _REFUSED
        yield number, document


def _csv_rows(text: str, problems: list[dict[str, Any]]) -> Iterable[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "input" not in reader.fieldnames:
        problems.append({"line": 1, "message": "The header needs an input column."})
        return
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell past the reader's field limit, say: read no further
            # line_num counts the lines of the rows read whole; this one starts after them.
            problems.append({"line": reader.line_num + 1, "message": f"Not CSV: {exc}."})
            return
        line = reader.line_num
        if None in row:
            problems.append({"line": line, "message": "The row has more cells than the header."})
            yield line, _REFUSED
            continue
        expected = row.get("expected") or ""
        tags = [t.strip() for t in (row.get("tags") or "").replace(";", ",").split(",")]
        try:
            document = {
                "input": _cell(row["input"]),
                "expected": _cell(expected) if expected.strip() else None,
                "tags": [t for t in tags if t],
            }
        except RecursionError:  # a cell of JSON nested past Python's stack
            problems.append({"line": line, "message": too_deep().message})
            document = _REFUSED
        yield line, document


def items_from_runs(user: Any, run_ids: Sequence[str]) -> tuple[list[ItemIn], list[Run]]:
    """Each run's input as an item's input and its output as the expected one; the caller
    must be able to read each run (404 otherwise), and each must have succeeded."""
    runs = [
        access.get_object(Run.objects.all(), user, "run.view", id=rid, not_found=f"Run {rid} was not found.")
        for rid in run_ids
    ]  # fmt: skip
    unfinished = [str(r.id) for r in runs if r.status != Run.Status.SUCCEEDED]
    if unfinished:
        raise BadRows(
            [{"line": None, "message": f"Run {rid} has not succeeded, so it has no output to expect."}
             for rid in unfinished]
        )  # fmt: skip
    return [ItemIn(input=r.input, expected=r.output, tags=[f"run:{r.id}"]) for r in runs], runs


# --- experiments -------------------------------------------------------------------------


@dataclass(frozen=True)
class Problems(Exception):
    detail: str
    problems: list[dict[str, Any]]


class CassetteIn(BaseModel):
    record: bool = Field(
        False,
        description="Record every model answer its runs and judges get, keyed by the request.",
    )
    replay: int | None = Field(
        None, description="Answer model calls from the cassette this experiment recorded."
    )
    replay_cassette: int | None = Field(
        None, description="Answer model calls from this cassette (an alternative to replay)."
    )
    on_miss: Literal["live", "fail"] = Field(
        "fail",
        description="A request the cassette does not hold: call the model (live) or fail the "
        "item's run, or the judge's score for a judge's request, saying so (fail).",
    )


@dataclass(frozen=True)
class Tape:
    record: bool
    replay: Cassette | None
    on_miss: str


def replay_tape(user: Any, workspace: Workspace, given: CassetteIn) -> Tape:
    """The cassettes an experiment in ``workspace`` asks for. The one replayed must be one
    ``user`` may read (``access.NotFound`` otherwise, as for nothing there) and belong to
    ``workspace`` (``Problems`` otherwise): a workspace never replays another's answers."""
    if given.replay is not None and given.replay_cassette is not None:
        raise Problems("Give replay (an experiment) or replay_cassette, not both.", [])
    replay = None
    if given.replay is not None:
        source = access.get_object(
            Experiment.objects.select_related("recording"), user, "experiment.view",
            pk=given.replay, not_found=f"Experiment {given.replay} was not found.",
        )  # fmt: skip
        if source.recording is None:
            raise Problems(
                f'Experiment {source.pk} recorded no cassette (start it with "record": true).', []
            )
        replay = source.recording
    elif given.replay_cassette is not None:
        replay = access.get_object(
            Cassette.objects.all(), user, "experiment.view", pk=given.replay_cassette,
            not_found=f"Cassette {given.replay_cassette} was not found.",
        )  # fmt: skip
    if replay is not None and replay.workspace_id != workspace.pk:
        raise Problems(
            "The cassette belongs to another workspace: an experiment replays only its own "
            "workspace's cassettes.",
            [],
        )
    return Tape(record=given.record, replay=replay, on_miss=given.on_miss)


def do_start_experiment(
    owner: Any,
    version: TeamVersion,
    dataset: Dataset,
    specs: list[Any],
    concurrency: int,
    tape: Tape | None = None,
) -> Experiment:
    """An experiment of ``version`` over ``dataset``'s current items. Every item's input must
    fit the team's input schema (``Problems`` naming the items otherwise), and the owner
    must hold ``run.start`` in the team's workspace (each item is a run they start). Nothing
    runs until something advances it (``evaluations.tasks.advance_soon``). ``tape``: the
    cassettes it records into and replays from (``replay_tape`` checks the one replayed)."""
    access.check(owner, version.team.workspace, "run.start")
    judging.check_models(specs, version.team.workspace)
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        items = list(locked.items_at())
        if not items:
            raise Problems("The dataset has no items to run.", [])
        misfits = [
            {"item_id": item.id, "problems": found}
            for item in items
            if (found := input_problems(version.spec, item.input))
        ]
        if misfits:
            raise Problems(
                f"{len(misfits)} items do not fit the team's input schema.", misfits[:50]
            )
        experiment = Experiment.objects.create(
            owner=owner, workspace=version.team.workspace, team=version.team,
            team_version=version, dataset=locked, dataset_version=locked.version,
            scorers=[s.model_dump(by_alias=True, exclude_none=True) for s in specs],
            concurrency=concurrency,
        )  # fmt: skip
        if tape is not None:
            experiment.replay, experiment.on_miss = tape.replay, tape.on_miss
            if tape.record:
                experiment.recording = Cassette.objects.create(workspace=experiment.workspace)
            experiment.save(update_fields=["replay", "on_miss", "recording"])
        ExperimentItem.objects.bulk_create(
            ExperimentItem(experiment=experiment, item=item) for item in items
        )
    return experiment


#: What a step writes of the items it scores, holds for their judges and starts.
STEP_FIELDS = [
    "status", "run", "run_status", "output", "scores", "cost_usd", "input_tokens",
    "output_tokens", "latency_s", "scoring_until", "judge_attempts",
]  # fmt: skip
#: How long a step's lease on the items whose judges it asks outlasts the judges' own time
#: limit (``judging.time_for``): past it, a later step takes them over.
LEASE_MARGIN_S = 60.0
#: Steps that may hold an item for its judges: past them, an item whose judges could not be
#: asked at all (not a judge that failed: that is a score) is scored 0 for each, saying why,
#: so an experiment ends whatever keeps failing.
JUDGE_ATTEMPTS = 3
#: What scoring an item never reads of its run: the largest columns, left in the database.
UNSCORED_RUN_FIELDS = ["spec", "input", "audit_head"]


def _ended(item: ExperimentItem, run: Run, specs: list[Any], verdicts: dict[Any, Any]) -> None:
    """Record ``run``'s end on its item and score it (the caller saves it); ``verdicts``: the
    judges' ``judging.Judged`` for it, by (item id, scorer label) (``_judged``)."""
    output = run.output
    results: dict[str, Any] = {}
    item.cost_usd = run.cost_usd
    item.input_tokens = run.input_tokens
    item.output_tokens = run.output_tokens
    for spec in specs:
        result: scorers.Score | judging.Judged
        if run.status != Run.Status.SUCCEEDED:
            result = scorers.Score(0.0, f"The run {run.get_status_display().lower()}: "
                                   f"{run.failure_reason or 'no output'}.")  # fmt: skip
        elif spec.kind == "judge":
            result = verdicts[item.pk, spec.label]
            # The judge's calls are part of what the case cost.
            item.cost_usd += result.cost_usd
            item.input_tokens += result.input_tokens
            item.output_tokens += result.output_tokens
        else:
            result = scorers.score(spec, output, item.item.expected)
        results[spec.label] = result.to_dict()
    item.status = ExperimentItem.Status.DONE
    item.scoring_until = None
    item.run_status = run.status
    item.output = output
    item.scores = results
    if run.started_at and run.finished_at:
        item.latency_s = (run.finished_at - run.started_at).total_seconds()


def _judged(
    experiment: Experiment, items: list[ExperimentItem], specs: list[Any]
) -> dict[Any, judging.Judged]:
    """Every judge's verdict on every item whose run succeeded, by (item id, scorer label):
    asked together (``judging.judge_many``), through the models each run had (so through its
    cassette when the experiment has one)."""
    judges = [spec for spec in specs if spec.kind == "judge"]
    graded = [i for i in items if i.run.status == Run.Status.SUCCEEDED] if judges else []
    if not graded:
        return {}
    models = judging.models_for(experiment.workspace_id, [i.run for i in graded])
    keys, cases = [], []
    for item in graded:
        for spec in judges:
            keys.append((item.pk, spec.label))
            cases.append(judging.Case(spec, models[item.run.id], item.item.input,
                                      item.run.output, item.item.expected))  # fmt: skip
    return dict(zip(keys, judging.judge_many(cases), strict=True))


def _unjudged(items: list[ExperimentItem], specs: list[Any], reason: str) -> dict[Any, Any]:
    """The verdicts of judges that could not be asked: 0, and why, for each."""
    score = judging.Judged(scorers.Score(0.0, f"The judge could not be asked: {reason}"))
    return {(i.pk, s.label): score for i in items for s in specs if s.kind == "judge"}


def _why_unasked(error: Exception) -> str:
    """What stopped the judges being asked, in words a person reads on the results: the
    exception's text only when it is ours to show (it may hold anything: a host, a query);
    the operator's log has the rest."""
    if isinstance(error, judging.UnknownModel):
        return f"{error}"
    if isinstance(error, DatabaseError):
        what = "the database failed while they were being asked"
    elif isinstance(error, TimeoutError):
        what = "their answers took longer than their time limit"
    else:
        what = f"an error in the orchestrator stopped it ({type(error).__name__})"
    return f"{what}, {JUDGE_ATTEMPTS} times. The operator's log has the details."


def do_advance(experiment_id: int) -> bool:
    """Score what ended, start what fits, finish when done; whether it is still running.
    A step costs a fixed number of queries however many items it scores or starts. The items
    that wait for a judge are asked after the step commits, outside the lock (``take_step``,
    ``score_held``), so the items it started never wait for the judges."""
    going, held = take_step(experiment_id)
    return going if held is None else score_held(held)


@dataclass(frozen=True)
class Held:
    """The items a step marked ``scoring`` (their runs succeeded and a judge is to be asked),
    with what asking their judges needs; ``until`` is the step's lease on them and its token."""

    experiment: Experiment
    specs: list[Any]
    items: list[ExperimentItem]
    until: datetime


def take_step(experiment_id: int) -> tuple[bool, Held | None]:
    """The step under the lock: whether the experiment is still running, and the items it
    holds for their judges (``score_held`` asks them), if any."""
    status = ExperimentItem.Status
    with transaction.atomic():
        # One row: unsorted, as the reads below (first() would sort it by its id).
        found = list(
            Experiment.objects.select_for_update(of=("self",))
            .select_related("team_version__team__workspace", "owner", "workspace")
            .filter(pk=experiment_id)
            .order_by()
        )
        experiment = found[0] if found else None
        if experiment is None or experiment.status != Experiment.Status.RUNNING:
            return False, None
        specs = scorers.SPECS.validate_python(experiment.scorers)
        judges = sum(spec.kind == "judge" for spec in specs)
        # Most steps find most runs still going: read their status alone, and whole rows
        # (a run's spec and output) only for the runs that ended. With judges, the items
        # being scored too: a lease that has passed (its step died) is taken over.
        now = timezone.now()
        going = [status.STARTED, status.SCORING] if judges else [status.STARTED]
        started = experiment.items.filter(status__in=going).order_by()
        states = list(started.values_list("id", "run__status", "scoring_until"))
        orphans = [pk for pk, run, _ in states if run is None]
        leased = {pk for pk, run, until in states if run is not None and until and until >= now}
        ended = [pk for pk, run, until in states
                 if run in Run.FINISHED_STATUSES and pk not in leased]  # fmt: skip
        in_flight = len(states) - len(orphans) - len(ended) - len(leased)
        if orphans:  # a case whose run was deleted runs again
            ExperimentItem.objects.filter(pk__in=orphans).update(
                status=status.PENDING, scoring_until=None
            )
        scored: list[ExperimentItem] = []
        marked: list[ExperimentItem] = []
        until = now
        if ended:
            unread = [f"run__{name}" for name in UNSCORED_RUN_FIELDS]
            rows = list(started.filter(pk__in=ended).select_related("run", "item").defer(*unread))
            for item in rows:
                wanted = judges and item.run.status == Run.Status.SUCCEEDED
                (marked if wanted else scored).append(item)
            # Held that often already, and every time its step stopped before it wrote: 0.
            spent = [item for item in marked if item.judge_attempts >= JUDGE_ATTEMPTS]
            marked = [item for item in marked if item.judge_attempts < JUDGE_ATTEMPTS]
            verdicts = _unjudged(spent, specs, (
                f"the step asking it stopped before it answered, {JUDGE_ATTEMPTS} times (its "
                "worker may have been stopped). The operator's log has the details."
            ))  # fmt: skip
            scored.extend(spent)
            for item in scored:  # no judge to ask: scored here, as before
                item.experiment = experiment
                _ended(item, item.run, specs, verdicts)
            if marked:
                lease_s = judging.time_for(len(marked) * judges) + LEASE_MARGIN_S
                until = now + timedelta(seconds=lease_s)
                for item in marked:
                    item.status, item.scoring_until = status.SCORING, until
                    item.judge_attempts += 1
        if (refusal := _owner_refusal(experiment)) is not None:
            # Its owner was switched off, left the workspace or lost run.start: it stops (it
            # kept starting runs for a switched-off account, and failed each step otherwise).
            if scored:  # what ended is still scored
                _save_fields(scored, STEP_FIELDS)
            _stop(experiment, f"The experiment stopped: {refusal}")
            return False, None
        room = max(experiment.concurrency - in_flight, 0)
        # Within the owner's cap on runs in flight: the rest wait for places to free up.
        left = quotas.runs_in_flight_left(experiment.owner)
        room = room if left is None else min(room, left)
        waiting = experiment.items.filter(status=status.PENDING)
        pending = list(waiting.select_related("item")[:room]) if room else []
        if pending:
            _start(experiment, pending)
        if scored or marked or pending:  # the items scored, held and started, in one statement
            _save_fields([*scored, *marked, *pending], STEP_FIELDS)
        finished = not (pending or in_flight or leased or marked) and not waiting.exists()
        if finished:
            _finish(experiment)
        if orphans or ended or pending or finished:
            live.announce(experiment_id)  # its watchers, after the step commits
    return not finished, (Held(experiment, specs, marked, until) if marked else None)


def held_under(experiment_id: int, until: datetime) -> Held | None:
    """The items of a running experiment a step held under the lease ``until``, read again
    (a task that asks their judges gets the lease alone); None when none is held by it."""
    experiment = (
        Experiment.objects.select_related("workspace")
        .filter(pk=experiment_id, status=Experiment.Status.RUNNING)
        .first()
    )
    if experiment is None:
        return None
    unread = [f"run__{name}" for name in UNSCORED_RUN_FIELDS]
    items = list(
        experiment.items.filter(status=ExperimentItem.Status.SCORING, scoring_until=until)
        .exclude(run=None)
        .select_related("run", "item")
        .defer(*unread)
    )
    specs = scorers.SPECS.validate_python(experiment.scorers)
    return Held(experiment, specs, items, until) if items else None


def score_held(held: Held) -> bool:
    """Ask the judges of the items ``take_step`` held, outside any transaction, then write
    the scores of those its lease still holds (none that a cancel, or a later step after the
    lease passed, took), and finish the experiment if nothing is left; whether it is still
    running. A worker that dies before the write leaves the items to the step that takes
    them over once the lease has passed, which asks their judges again. Judges that could
    not be asked at all (anything but a model's failure, which is a score) release the
    items at once, for the next step to try again, or score them 0 saying why once they
    were tried ``JUDGE_ATTEMPTS`` times."""
    failure = None
    try:
        verdicts = _judged(held.experiment, held.items, held.specs)
    except Exception as error:
        log.exception(
            "Could not ask the judges of experiment %s (items %s)",
            held.experiment.pk, [item.pk for item in held.items],
        )  # fmt: skip
        if isinstance(error, DatabaseError) and not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        verdicts, failure = {}, _why_unasked(error)
    status = ExperimentItem.Status
    with transaction.atomic():
        found = list(
            Experiment.objects.select_for_update(of=("self",))
            .filter(pk=held.experiment.pk)
            .order_by()
            .only("id", "status")
        )
        if not found or found[0].status != Experiment.Status.RUNNING:
            return False
        experiment = found[0]
        mine = set(
            ExperimentItem.objects.filter(
                pk__in=[item.pk for item in held.items], status=status.SCORING,
                scoring_until=held.until, run__isnull=False,
            ).values_list("id", flat=True)
        )  # fmt: skip
        items = [item for item in held.items if item.pk in mine]
        if failure is not None:
            retried = [item.pk for item in items if item.judge_attempts < JUDGE_ATTEMPTS]
            ExperimentItem.objects.filter(pk__in=retried).update(scoring_until=None)
            items = [item for item in items if item.pk not in retried]
            verdicts = _unjudged(items, held.specs, failure)
        for item in items:
            item.experiment = held.experiment
            _ended(item, item.run, held.specs, verdicts)
        if items:
            _save_fields(items, STEP_FIELDS)
        going = experiment.items.exclude(status__in=[status.DONE, status.CANCELLED]).exists()
        if not going:
            _finish(experiment)
        if items or not going:
            live.announce(experiment.pk)
    return going


def _owner_refusal(experiment: Experiment) -> str | None:
    """Why the experiment's owner may no longer start its runs, or None (one query a step:
    the role it reads is remembered for the runs the step starts)."""
    try:
        may_start(experiment.owner, experiment.team_version.team)
    except (access.NotFound, access.Forbidden) as exc:
        return str(exc)
    return None


def _finish(experiment: Experiment) -> None:
    experiment.status = Experiment.Status.FINISHED
    experiment.finished_at = timezone.now()
    experiment.save(update_fields=["status", "finished_at"])


def _start(experiment: Experiment, items: list[ExperimentItem]) -> None:
    """A run for each item, created in one INSERT and dispatched once the step commits (the
    caller saves the items)."""
    runs = new_runs(
        experiment.owner, experiment.team_version, [i.item.input for i in items],
        started_by=runs_started_by(experiment.id), savepoint=False,  # a step fails whole
    )  # fmt: skip
    for item, run in zip(items, runs, strict=True):
        item.run, item.status = run, ExperimentItem.Status.STARTED
    enqueue_many(runs)


def _save_fields(items: list[ExperimentItem], fields: list[str]) -> None:
    """Write ``fields`` of the (whole, existing) ``items`` in one statement: an INSERT whose
    every row conflicts on its id and so updates those fields. Django's ``bulk_update``
    builds a CASE over every row for every field; for a step of 50 items that was a fifth
    of the worker's CPU in benchmarks/experiments.py."""
    ExperimentItem.objects.bulk_create(
        items, update_conflicts=True, unique_fields=["id"], update_fields=fields
    )


def do_cancel(experiment: Experiment, who: str) -> Experiment:
    """Stop starting items, cancel the runs in flight; scored items keep their scores."""
    with transaction.atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if locked.status != Experiment.Status.RUNNING:
            return locked
        _stop(locked, f"The experiment was cancelled by {who}.")
    return locked


def _stop(locked: Experiment, reason: str) -> None:
    """Cancel the (locked, running) experiment: its runs in flight with ``reason``, its items
    not done yet, and itself."""
    with transaction.atomic():
        for run in Run.objects.select_for_update().filter(
            experiment_item__experiment=locked, status__in=Run.ACTIVE_STATUSES
        ):
            cancel_run(run, reason=reason)
        # Items whose judges are being asked are cancelled too: the verdicts, when they come,
        # find them no longer held and are dropped (``score_held``).
        locked.items.filter(
            status__in=[ExperimentItem.Status.PENDING, ExperimentItem.Status.STARTED,
                        ExperimentItem.Status.SCORING]
        ).update(status=ExperimentItem.Status.CANCELLED)  # fmt: skip
        locked.status = Experiment.Status.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        live.announce(locked.pk)


def running_ids() -> list[int]:
    return list(
        Experiment.objects.filter(status=Experiment.Status.RUNNING).values_list("id", flat=True)
    )


def progress(experiment: Experiment) -> dict[str, int]:
    return experiment.items.aggregate(**ExperimentItem.progress_counts())


def cost(experiment: Experiment) -> Decimal:
    return sum((i.cost_usd for i in experiment.items.all()), Decimal(0))
