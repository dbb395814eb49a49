"""Circuit breakers for model credentials, in process (the embedded default; the shell has a
Redis one, ``runs/circuits.py``, that every worker process shares).

A circuit opens after ``failures`` retryable failures in a row, refuses calls for
``cooldown_s``, then half-opens: one probe goes through; its success closes the circuit, its
failure opens it again. While a model's circuit is open, an agent with fallback models goes
straight to the next one, and an agent's last model waits for the half-open moment rather
than being called (``activities.call_model``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .interfaces import Circuit, RateLimit


@dataclass(frozen=True)
class CircuitPolicy:
    failures: int = 5
    cooldown_s: float = 30.0


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0
    half_open: bool = False
    probing: bool = False


@dataclass
class LocalCircuits:
    """Every circuit of this process, by credential."""

    policy: CircuitPolicy = field(default_factory=CircuitPolicy)
    clock: Callable[[], float] = time.monotonic
    _states: dict[str, _State] = field(default_factory=dict)

    def circuit(self, name: str) -> LocalCircuit:
        return LocalCircuit(self, name)

    def allows(self, name: str) -> bool:
        state = self._states.get(name)
        if state is None:
            return True
        if self.clock() < state.open_until:
            return False
        if state.half_open:
            if state.probing:
                return False
            state.probing = True
        return True

    def open_for(self, name: str) -> float:
        state = self._states.get(name)
        return max(0.0, state.open_until - self.clock()) if state else 0.0

    def record(self, name: str, ok: bool) -> None:
        state = self._states.setdefault(name, _State())
        if ok:
            self._states.pop(name, None)
            return
        state.failures += 1
        if state.half_open or state.failures >= self.policy.failures:
            state.open_until = self.clock() + self.policy.cooldown_s
            state.half_open, state.probing, state.failures = True, False, 0

    def reset(self) -> None:
        self._states.clear()


@dataclass(frozen=True)
class LocalCircuit:
    """Implements ``interfaces.Circuit`` for one credential of a ``LocalCircuits``."""

    circuits: LocalCircuits
    name: str

    async def allows(self) -> bool:
        return self.circuits.allows(self.name)

    async def record(self, ok: bool) -> None:
        self.circuits.record(self.name, ok)

    async def open_for(self) -> float:
        return self.circuits.open_for(self.name)

    async def allows_and_reserve(self, rate_limit: RateLimit, tokens: int) -> float | None:
        return await allows_then_reserve(self, rate_limit, tokens)


async def allows_then_reserve(circuit: Circuit, rate_limit: RateLimit, tokens: int) -> float | None:
    """``Circuit.allows_and_reserve`` in two steps, for a circuit and a limiter that do not
    share a store."""
    if not await circuit.allows():
        return None
    return await rate_limit.reserve(tokens)
