"""What a resolution reports while it runs: packages pinned, metadata read, backtracking decisions.

The resolver emits ``ResolveEvent`` values to a callback (the CLI draws a status line on a terminal and
prints backtracking with ``-v``); resolving itself never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from resolvelib.reporters import BaseReporter

EventKind = Literal["pinned", "metadata", "rejected", "backtrack", "finished"]


@dataclass(frozen=True)
class ResolveEvent:
    kind: EventKind
    subject: str
    """``pinned``: the package just pinned; ``metadata``: the candidate whose metadata was read;
    ``rejected``: a candidate and the clash its dependencies cause; ``backtrack``: the clash that made
    the resolver undo earlier pins, in plain words; ``finished``: the work the resolution took, in words
    (``12 rounds, 1 backtrack``), whether it pinned everything or not."""
    count: int = 0
    """``pinned``: how many packages are pinned now; ``finished``: resolver rounds."""


OnEvent = Callable[[ResolveEvent], None]


def ignore(_event: ResolveEvent) -> None:
    """The default listener."""


def describe_causes(causes: Sequence[Any]) -> str:
    """``a 2.0 requires b==2; requirements.in:2 requires b==1`` from resolvelib's requirement information."""
    parts = []
    for cause in causes:
        parent = cause.parent.label if cause.parent is not None else " → ".join(cause.requirement.path[:1])
        text = f"{parent or 'the input'} requires {cause.requirement}"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


class Reporter(BaseReporter):  # type: ignore[type-arg]
    """resolvelib reporter: counts rounds and backtracks and passes pins and backtracking on."""

    def __init__(
        self, on_event: OnEvent = ignore, on_rejected: Callable[[Any, Sequence[Any]], None] | None = None
    ) -> None:
        """``on_rejected(candidate, information)`` hears each rejected candidate with the requirements
        that clashed (the provider learns from it)."""
        super().__init__()
        self.on_rejected = on_rejected
        self.rounds = 0
        self.backtracks = 0
        self.on_event = on_event
        self._last_pin = ""

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1

    def ending_round(self, index: int, state: Any) -> None:
        if self._last_pin:
            self.on_event(ResolveEvent("pinned", self._last_pin, len(state.mapping)))
            self._last_pin = ""

    def resolving_conflicts(self, causes: Any) -> None:
        self.backtracks += 1
        self.on_event(ResolveEvent("backtrack", describe_causes(list(causes))))

    def rejecting_candidate(self, criterion: Any, candidate: Any) -> None:
        information = list(criterion.information)
        if self.on_rejected is not None:
            self.on_rejected(candidate, information)
        clash = describe_causes(information)
        self.on_event(ResolveEvent("rejected", f"{candidate.label} ({clash})"))

    def pinning(self, candidate: Any) -> None:
        self._last_pin = candidate.label

    def finished(self) -> None:
        """Reported once the resolution ends (success or failure): how much work it took."""
        work = f"{self.rounds} round{'s' * (self.rounds != 1)}"
        work += f", {self.backtracks} backtrack{'s' * (self.backtracks != 1)}"
        self.on_event(ResolveEvent("finished", work, self.rounds))
