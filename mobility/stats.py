"""What every solver reports, and how it is told to stop.

Following PyVRP, a solver is called as ``solve(data, params, stop)``; ``stop`` is a small object
with one method, and the result carries a :class:`SolverStats`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


class StoppingCriterion(Protocol):
    """Decides whether a search should stop; called with the best objective found so far."""

    def __call__(self, best_objective: float) -> bool: ...


@dataclass
class MaxRuntime:
    """Stop after ``seconds`` of wall time, counted from construction (or :meth:`reset`)."""

    seconds: float
    _start: float = field(default_factory=time.perf_counter, repr=False)

    def reset(self) -> None:
        """Start counting again from now."""
        self._start = time.perf_counter()

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.seconds - (time.perf_counter() - self._start))

    def __call__(self, best_objective: float) -> bool:
        return self.remaining() <= 0.0


@dataclass
class MaxIterations:
    """Stop after ``iterations`` calls."""

    iterations: int
    _done: int = 0

    def __call__(self, best_objective: float) -> bool:
        self._done += 1
        return self._done > self.iterations


OPTIMAL_GAP = 1e-6
"""The largest relative gap a result called optimal may have (numerical noise of the bound)."""


@dataclass(frozen=True)
class SolverStats:
    """The accountable facts of one solver run.

    Attributes
    ----------
    solver
        Which method produced the result (e.g. ``"cp-sat"``, ``"ortools-routing+lns"``).
    status
        ``"optimal"`` (proven: gap at most :data:`OPTIMAL_GAP`), ``"gap_limit"`` (the solver
        stopped at its relative-gap tolerance and said optimal; the gap says how far),
        ``"feasible"``, ``"infeasible"``, ``"time_limit"`` or ``"error"``.
    objective
        Objective value of the returned solution (minimisation unless the model says otherwise).
    bound
        Best proven bound on the objective (``None`` when the method proves none).
    gap
        Relative gap ``|objective - bound| / max(1, |objective|)``; ``None`` without a bound.
    seconds
        Wall time of the solve.
    seed
        Random seed used.
    extra
        Method-specific figures (iterations, nodes, ...).
    """

    solver: str
    status: str
    objective: float
    bound: float | None
    seconds: float
    seed: int
    gap: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def relative_gap(objective: float, bound: float | None) -> float | None:
        """``|objective - bound| / max(1, |objective|)``, or ``None`` without a bound."""
        if bound is None:
            return None
        return abs(objective - bound) / max(1.0, abs(objective))

    @classmethod
    def since(
        cls,
        started: float,
        *,
        solver: str,
        status: str,
        objective: float,
        bound: float | None,
        seed: int,
        extra: dict[str, Any] | None = None,
    ) -> SolverStats:
        """The stats of a solve begun at ``time.perf_counter() == started``, its gap from
        ``objective`` and ``bound`` (:meth:`relative_gap`). A solver's "optimal" with a gap above
        :data:`OPTIMAL_GAP` (a MIP stopped at its ``relative_gap`` tolerance) is recorded as
        ``"gap_limit"``: optimal is what is proven."""
        gap = cls.relative_gap(objective, bound)
        if status == "optimal" and gap is not None and gap > OPTIMAL_GAP:
            status = "gap_limit"
        return cls(
            solver=solver,
            status=status,
            objective=objective,
            bound=bound,
            seconds=time.perf_counter() - started,
            seed=seed,
            gap=gap,
            extra=extra if extra is not None else {},
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)
