"""Progress of long work: a message for each step, and where it is known, how much is done.

A long procedure (an expansion plan, a rider simulation) takes a :class:`Progress` and calls it
with a short message at each step. Where the procedure knows how far it has come, it also says
``done``: the fraction of its whole work finished, in [0, 1], never going back. A procedure that
runs another as one of its stages hands it :func:`within` its own progress, so the inner
procedure's fractions land in the stage's share of the whole. Messages without ``done`` leave
the fraction where it was (a step whose length nothing predicts, such as a solver run).

The CLI shows the fraction beside its spinner; the API stores it as the job's progress, and the
web app draws it as the job's bar.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "no_progress", "within"]


class Progress(Protocol):
    """Told each step of a long procedure: ``progress(message)`` or ``progress(message, done)``."""

    def __call__(self, message: str, /, done: float | None = None) -> None:
        """Record one step.

        Parameters
        ----------
        message
            What the procedure is doing now (one line).
        done
            The fraction of the whole procedure finished, in [0, 1]; ``None`` when the step does
            not move it.
        """


def no_progress(message: str, /, done: float | None = None) -> None:
    """The :class:`Progress` that tells no one (the default of every procedure)."""
    del message, done


def within(progress: Progress, start: float, end: float, *, prefix: str = "") -> Progress:
    """``progress`` for one stage of a larger procedure, which takes ``start``..``end`` of it.

    Parameters
    ----------
    progress
        The whole procedure's progress.
    start, end
        The stage's share of the whole: its ``done = 0`` is reported as ``start`` and its
        ``done = 1`` as ``end`` (``0 <= start <= end <= 1``).
    prefix
        Put before each message of the stage (e.g. ``"before: "``).

    Returns
    -------
    Progress
        The stage's progress. Fractions outside [0, 1] are clipped to it.

    Raises
    ------
    ValueError
        When the share is not an interval of [0, 1].
    """
    if not 0.0 <= start <= end <= 1.0:
        raise ValueError(f"a stage's share must satisfy 0 <= start <= end <= 1, got {start}..{end}")

    def report(message: str, /, done: float | None = None) -> None:
        whole = None if done is None else start + (end - start) * min(1.0, max(0.0, float(done)))
        progress(f"{prefix}{message}", whole)

    return report
