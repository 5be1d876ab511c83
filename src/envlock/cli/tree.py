"""``envlock tree``: the lock's packages as a tree from the input requirements down (or, with
``--invert NAME``, from NAME up to them), per target where they differ. Reads the lock only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import project_lock, table_options

if TYPE_CHECKING:
    from envlock.lock.graph import TreeLine


@click.command("tree")
@table_options("tree")
def command(
    depth: int | None, invert: str | None, target: str | None, lock: Path | None, as_json: bool
) -> None:
    """Show the lock's dependency tree, each package with the requirement that selected it.

    \b
    Exit codes: 0 shown; 2 --invert NAME or --target SPEC is not in the lock, or the lock is
                missing or invalid.
    """
    from envlock.lock.graph import group_targets, lock_graph, target_label, tree_lines
    from envlock.lock.lockfile import read_lock

    path = project_lock(lock)
    graph = lock_graph(read_lock(path))
    graphs = [graph.target(target_label(target), path)] if target else list(graph.targets)
    start = graph.known(invert, path) if invert else None
    answers = group_targets([(g.target, tree_lines(g, depth=depth, invert=start)) for g in graphs])
    if as_json:
        found = [{"targets": list(targets), "tree": _nested(lines)} for targets, lines in answers]
        click.echo(json.dumps({"lock": str(path), "targets": found}, indent=2, sort_keys=True))
        return
    for targets, lines in answers:
        if len(answers) > 1:
            click.echo(f"on {', '.join(targets)}:")
        empty = f"{start} is not installed" if start else "(no packages)"
        click.echo("\n".join(_drawn(lines)) if lines else empty)


def _label(line: TreeLine) -> str:
    from envlock.lock.graph import PACKAGE, TOP_LEVEL

    if line.node is None:
        return f"{line.edge.parent}: {line.edge.shown}"  # an input requirement (inverted tree's leaf)
    text = line.node.shown
    if line.depth == 0 and line.edge.parent == line.node.name:
        return text  # the inverted tree's start
    if line.edge.parent != TOP_LEVEL:  # nothing in the lock says what requires a top-level package
        asked = line.edge.shown if line.edge.kind == PACKAGE else f"{line.edge.parent}: {line.edge.shown}"
        text += f" [{asked}]"
    if line.cycle:
        text += " (cycle)"
    elif line.repeated:
        text += " (*)"
    return text


def _drawn(lines: tuple[TreeLine, ...]) -> list[str]:
    """Box-drawn lines: a line is its siblings' last when no sibling follows before its parent's level."""
    last = []
    for index, line in enumerate(lines):
        follows = (other.depth for other in lines[index + 1 :] if other.depth <= line.depth)
        last.append(next(follows, -1) != line.depth)
    drawn = []
    open_levels: list[bool] = []  # per depth: does a sibling still follow (draw a bar)?
    for line, is_last in zip(lines, last, strict=True):
        del open_levels[line.depth :]
        if line.depth == 0:
            drawn.append(_label(line))
        else:
            prefix = "".join("│   " if bar else "    " for bar in open_levels[1:])
            drawn.append(prefix + ("└── " if is_last else "├── ") + _label(line))
        open_levels.append(not is_last)
    return drawn


def _nested(lines: tuple[TreeLine, ...]) -> list[dict[str, Any]]:
    """The flat lines as nested ``{name, version, requirement, from, dependencies}`` objects."""
    top: list[dict[str, Any]] = []
    stack: list[list[dict[str, Any]]] = [top]
    for line in lines:
        del stack[line.depth + 1 :]
        entry: dict[str, Any] = {
            "name": line.node.name if line.node else None,
            "version": line.node.version if line.node else None,
            "from": line.edge.parent,
            "requirement": line.edge.requirement,
            "kind": line.edge.kind,
            "repeated": line.repeated,
            "cycle": line.cycle,
            "dependencies": [],
        }
        stack[line.depth].append(entry)
        stack.append(entry["dependencies"])
    return top
