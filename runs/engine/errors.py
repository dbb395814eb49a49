"""Why an agent or a run stopped. These are control flow inside the engine; ``runner`` turns
them into the run's final event and ``RunOutcome``."""

from __future__ import annotations


class AgentFailed(Exception):
    """An agent could not finish its task. Patterns decide what follows: the fallback agent,
    a supervisor told about it (route-around), or a failed run."""

    def __init__(self, agent: str, reason: str, error_type: str = "agent_failed") -> None:
        super().__init__(reason)
        self.agent = agent
        self.reason = reason
        self.error_type = error_type


class RunFailed(Exception):
    """The run cannot go on; ``reason`` is shown to the person who started it."""

    def __init__(self, reason: str, error_type: str = "run_failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


class Suspended(Exception):
    """The run waits for a person (a human node or a budget approval)."""

    def __init__(self, activity_key: str, reason: str, wake_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.activity_key = activity_key
        self.reason = reason
        self.wake_after_s = wake_after_s


class DeadlineExceeded(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not finish within {seconds:g} s")
        self.seconds = seconds


class RunCancelled(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
