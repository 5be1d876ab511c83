# ruff: noqa: PTH100, PTH112, PTH113, PTH116, PTH118, PTH120
# (os.path on plain strings, as the memo layer that asks)
"""The import closure of an envlock module, read from the modules' text: the files ``memo.Memo.key`` names
the code of a memo by (``memo.code_digest``). Apart from ``memo`` because only a first run, an upgrade or
an edit reads it (``ast``, tens of milliseconds); ``envlock check``'s path only verifies a remembered one."""

from __future__ import annotations

import ast
import os
from functools import cache

_DYNAMIC = frozenset({"import_module", "__import__", "exec", "eval"})
"""Calls that run code no import statement names: a module making one has no closure read from its text."""


def closure(module: str) -> list[str] | None:
    """The files (relative to envlock's folder, ``/``-separated) of ``module`` and of every envlock module
    it imports, directly or not: every import statement counts (at the top, in functions, under
    TYPE_CHECKING), with each module's packages and the folders holding them (a module added beside one
    can shadow it: ``x/`` or ``x.so`` before ``x.py``). None when one of them runs code no import names
    (``importlib.import_module``, ``exec``): its closure cannot be read from its text."""
    rows = closure_rows(module)
    return None if rows is None else [row.split("\t")[0] for row in rows.decode("utf-8").split("\n")]


@cache  # once per process and module
def closure_rows(module: str) -> bytes | None:
    """``closure``'s files and folders with their mtime and size, a line each (``rel\tmtime_ns\tsize``),
    read from the modules' text. Each is looked at before it is read (a folder before the names in it are
    looked up), so an edit made meanwhile shows as a changed row, never as a closure older than its rows."""
    package = os.path.dirname(os.path.abspath(__file__))
    rows: dict[str, str] = {}
    files: dict[str, str | None] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in files or not (name == "envlock" or name.startswith("envlock.")):
            continue
        rel = files[name] = _module_file(package, name, rows)
        if rel is None:  # a name imported from a module, not a module
            continue
        parts = name.split(".")
        todo.extend(".".join(parts[:end]) for end in range(1, len(parts)))
        rows[rel] = _row(package, rel)
        with open(os.path.join(package, rel), encoding="utf-8") as handle:
            source = handle.read()
        own_package = name if rel.endswith("__init__.py") else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(source)):
            called = getattr(node, "func", None)
            if isinstance(node, ast.Call) and _DYNAMIC & {
                getattr(called, "id", ""),
                getattr(called, "attr", ""),
            }:
                return None
            if isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    above = own_package.split(".")[: len(own_package.split(".")) - node.level + 1]
                    base = ".".join([*above, *([base] if base else [])])
                todo.append(base)
                todo.extend(f"{base}.{alias.name}" for alias in node.names)
    return "\n".join(rows[rel] for rel in sorted(rows, key=lambda rel: (not rel.endswith("/"), rel))).encode()


def _row(package: str, rel: str) -> str:
    info = os.stat(os.path.join(package, rel))
    return f"{rel}\t{info.st_mtime_ns}\t{info.st_size}"


def _module_file(package: str, name: str, rows: dict[str, str]) -> str | None:
    """``inputs/fresh_cache.py`` for ``envlock.inputs.fresh_cache``, ``inputs/__init__.py`` for
    ``envlock.inputs``; None when no such module file exists. The folder looked in gets its row first."""
    rel = "/".join(name.split(".")[1:])
    folder = (rel.rpartition("/")[0] or ".") + "/"
    if folder not in rows:
        if not os.path.isdir(os.path.join(package, folder)):  # its parent folder's row has its making
            return None
        rows[folder] = _row(package, folder)
    init = f"{rel}/__init__.py" if rel else "__init__.py"
    if os.path.isfile(os.path.join(package, init)):
        if f"{rel}/" not in rows and rel:
            rows[f"{rel}/"] = _row(package, f"{rel}/")
        return init
    return f"{rel}.py" if rel and os.path.isfile(os.path.join(package, f"{rel}.py")) else None
