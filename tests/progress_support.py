"""A :class:`mobility.progress.Progress` for tests: it keeps every step it is told."""

from __future__ import annotations


class Heard:
    """Keeps each message and its share done (``None`` where a step gave none), in order."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.shares: list[float | None] = []

    def __call__(self, message: str, /, done: float | None = None) -> None:
        self.messages.append(message)
        self.shares.append(done)

    def known(self) -> list[float]:
        """The shares that were given, in order."""
        return [d for d in self.shares if d is not None]
