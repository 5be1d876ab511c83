"""``envlock why NAME``: every path from an input requirement to NAME in the lock, per target where
they differ, with the requirement on each edge. Reads the lock only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import project_lock, table_options

if TYPE_CHECKING:
    from envlock.lock.graph import Edge, TargetGraph


@click.command("why")
@table_options("why")
def command(name: str, lock: Path | None, as_json: bool) -> None:
    """Show why NAME is in the lock: each chain of requirements from an input file to it.

    \b
    Exit codes: 0 shown; 2 NAME is not in the lock, or the lock is missing or invalid.
    """
    from envlock.lock.graph import group_targets, lock_graph
    from envlock.lock.lockfile import read_lock

    path = project_lock(lock)
    graph = lock_graph(read_lock(path))
    wanted = graph.known(name, path)
    answers = group_targets([(g.target, _answer(g, wanted)) for g in graph.targets])
    if as_json:
        found = [{**answer, "targets": list(targets)} for targets, answer in answers]
        click.echo(
            json.dumps({"lock": str(path), "package": wanted, "targets": found}, indent=2, sort_keys=True)
        )
        return
    for targets, answer in answers:
        click.echo("\n".join(_text(wanted, targets, answer, several=len(answers) > 1)))


def _answer(graph: TargetGraph, name: str) -> dict[str, Any]:
    from envlock.lock.graph import paths_to

    node = graph.nodes.get(name)
    if node is None:
        return {"version": None, "paths": [], "truncated": False}
    paths, truncated = paths_to(graph, name)
    return {
        "version": node.version,
        "paths": [[_step(graph, edge) for edge in path] for path in paths],
        "truncated": truncated,
    }


def _step(graph: TargetGraph, edge: Edge) -> dict[str, Any]:
    node = graph.nodes[edge.child]
    return {"from": edge.parent, "to": edge.child, "version": node.version, "requirement": edge.requirement}


def _text(name: str, targets: tuple[str, ...], answer: dict[str, Any], *, several: bool) -> list[str]:
    where = f" on {', '.join(targets)}" if several else ""
    if answer["version"] is None:
        return [f"{name} is not installed{where}"]
    count = len(answer["paths"])
    lines = [f"{name} {answer['version']}{where}: {count} path{'s' if count != 1 else ''}"]
    for path in answer["paths"]:
        hops = [path[0]["from"]] + [
            f"{step['to']} {step['version'] or '(directory)'} ({step['requirement'] or step['to']})"
            for step in path
        ]
        lines.append("  " + " -> ".join(hops))
    if answer["truncated"]:
        lines.append(f"  ... (the first {count} paths)")
    return lines
