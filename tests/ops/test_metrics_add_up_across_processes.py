"""Processes of one host that share PROMETHEUS_MULTIPROC_DIR are counted together: what two
executors counted is what a scrape of either host process shows, and a process that ended
no longer counts its websocket clients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

SETUP = (
    "import django, os, types;"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'orchestration_site.settings');"
    "django.setup();"
    "from runs import metrics;"
    "run = types.SimpleNamespace(team_name='Desk', started_at=None, events=None);"
)


def in_process(directory: Path, code: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", SETUP + code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def scraped(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = in_process(
        directory,
        "from prometheus_client import generate_latest;"
        "print(generate_latest(metrics.registry()).decode())",
    )
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_two_processes_counts_add_up_and_an_ended_ones_clients_do_not(tmp_path: Path) -> None:
    started = "{'type': 'run.started', 'ts': 1.0, 'payload': {}}"
    # Two executors each count runs starting; a web process counts a websocket client.
    in_process(tmp_path, f"metrics.observe_events(run, [{started}, {started}])")
    in_process(tmp_path, f"metrics.observe_event(run, {started})")
    web = in_process(tmp_path, "metrics.websocket_connected('run'); print(os.getpid())").strip()

    samples = scraped(tmp_path)
    assert samples[("orchestrator_runs_started_total", (("team", "Desk"),))] == 3
    assert samples[("orchestrator_websocket_clients", (("socket", "run"),))] == 1
    assert samples[("orchestrator_events_total", (("type", "run.started"),))] == 3

    # The web process is gone: its clients are no longer connected.
    in_process(tmp_path, f"metrics.process_ended({web})")
    samples = scraped(tmp_path)
    assert samples.get(("orchestrator_websocket_clients", (("socket", "run"),)), 0) == 0
    assert samples[("orchestrator_runs_started_total", (("team", "Desk"),))] == 3
