"""Compile's progress: a status line redrawn in place on a terminal, backtracking lines with ``-v``."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:  # not at run time: resolve.progress loads resolvelib, which a kept lock never needs
    from envlock.resolve.progress import ResolveEvent

REDRAW_SECONDS = 0.1
"""A terminal line redrawn at most this often (a resolution may pin thousands of times a second)."""


class CompileProgress:
    """Listens to a resolution (``on_event``), to sdist builds (``building``) and to warnings (``warn``):
    the compile job's sink (``resolve.job.CompileSink``)."""

    def __init__(
        self, verbosity: int, stream: TextIO | None = None, warn: Callable[[str], None] | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.verbosity = verbosity
        self._warn = warn
        self.live = verbosity >= 0 and self.stream.isatty()
        self.pinned = self.read = self.rejected = self.backtracks = 0
        self._drawn_at = 0.0
        self._shown = False

    def on_event(self, event: ResolveEvent) -> None:
        if event.kind == "pinned":
            self.pinned = event.count
        elif event.kind == "metadata":
            self.read += 1
        elif event.kind == "finished":
            if self.verbosity >= 1:
                self._print(f"resolver work: {event.subject}")
            return
        elif event.kind == "rejected":
            self.rejected += 1
            if self.verbosity >= 1:
                self._print(f"rejected {event.subject}")
        else:
            self.backtracks += 1
            if self.verbosity >= 1:
                self._print(f"backtracking: {event.subject}")
        self._draw(event.subject)

    def building(self, sdist: str) -> None:
        if self.verbosity >= 1:
            self._print(f"building metadata of {sdist}")
        self._draw(f"building {sdist}", force=True)

    def warn(self, message: str) -> None:
        """A warning (``Output.warn``), on a line of its own: the status line is cleared first."""
        if self._warn is not None:
            self.close()
            self._warn(message)

    def close(self) -> None:
        """Clear the status line (the result is printed after it)."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def _draw(self, subject: str, force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self._drawn_at < REDRAW_SECONDS):
            return
        self._drawn_at = now
        tried = f", {self.rejected} rejected" if self.rejected else ""
        tried += f", {self.backtracks} backtracks" if self.backtracks else ""
        line = f"resolving: {self.pinned} pinned, {self.read} metadata read{tried} · {subject}"
        width = shutil.get_terminal_size((100, 24)).columns - 1
        self.stream.write("\r\x1b[K" + line[:width])
        self.stream.flush()
        self._shown = True

    def _print(self, line: str) -> None:
        self.close()
        click.echo(line, file=self.stream)
