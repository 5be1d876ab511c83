"""The ``envlock sync --json`` document (schema and ``format`` version in docs/sync.md): a sync's result
and its plan, one entry per package."""

from __future__ import annotations

from typing import Any

from envlock.sync.plan import PlanItem, SyncResult

JSON_FORMAT = 1
"""Version of the ``--json`` document (docs/sync.md)."""


def result_json(result: SyncResult) -> dict[str, Any]:
    """The ``--json`` document (schema in docs/sync.md)."""
    return {
        "format": JSON_FORMAT,
        "venv": str(result.venv),
        "python": result.python,
        "dry_run": result.dry_run,
        "up_to_date": result.up_to_date,
        "created": result.created,
        "rebuilt": result.rebuilt,
        "elapsed": round(result.elapsed, 3),
        "counts": result.counts,
        "notes": list(result.notes),
        "packages": [_item_json(item) for item in result.plan.items],
    }


def _item_json(item: PlanItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": item.name,
        "action": item.action.value,
        "reason": item.reason,
        "old_version": item.old_version,
        "new_version": item.new_version,
    }
    if item.wanted is not None:
        data["artifact"] = {
            "filename": item.wanted.artifact.filename,
            "sha256": item.wanted.artifact.sha256,
            "source": item.wanted.artifact.source,
        }
    return data
