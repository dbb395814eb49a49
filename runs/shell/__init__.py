"""The run shell: everything around the engine that executes runs in a worker process.

- ``config``: every tuning knob, with the measurement that chose it;
- ``loop``: the process's run loop, its database threads, and ``Batcher``, the one batching
  primitive every loop that gathers work across runs is built on;
- ``store``: all the SQL the shell writes and reads;
- ``sink``: the engine's event sink for one run, and the writer that stores every run's events;
- ``claims``, ``heartbeat``, ``finishes``: taking a run, holding it, recording how it ended.

``runs.execution`` ties them together for one run; ``runs.wakes`` sweeps for the runs nobody
holds. See docs/architecture.md ("The run shell's floor plan").
"""
