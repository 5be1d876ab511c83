"""Where each file of a plan's wheels goes in the target, worked out before anything is written: plain
string work on the store's manifests (their paths were checked when the manifest was read,
``wheel_store.load``), the folders each wheel needs (parents first), and which wheel writes a path that
two wheels of one plan both ship (the last of them in name order, as a sequential install would leave it).

A fresh data-science venv is ~11,000 files in ~1,100 folders: the per-file cost here is one string
concatenation, so the writer (``materialize``) does one ``link`` per file and one ``mkdir`` per folder."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from envlock import validate
from envlock.sync.unpacked_model import UnpackedFile
from envlock.sync.wheel_store import UnpackedWheel

Launcher = tuple[str, bytes]
"""A console or GUI script launcher made for the venv: its file name and content."""


@dataclass(frozen=True)
class Placement:
    """Where one wheel's files go."""

    wheel: str
    """The wheel's file name (for messages)."""
    scheme: Mapping[str, str]
    """Absolute scheme folders; ``headers`` already ends in the project's own folder."""
    staging: str
    """The dist-info as it is written before it is renamed into place (a folder of the state folder)."""
    dist_info: str
    """The dist-info's final path."""
    files: tuple[tuple[UnpackedFile, str], ...]
    """The files written into the target and where (not the dist-info's, nor those ``skipped``)."""
    staged: tuple[tuple[UnpackedFile, str], ...]
    """The dist-info's files and where they are written in staging."""
    launchers: tuple[tuple[str, bytes, str], ...]
    """Script launchers: name, content, where."""
    folders: tuple[str, ...]
    """Every folder the files need, from just below the target's root down, parents first."""
    staged_folders: tuple[str, ...]
    """The staged dist-info and the folders of its files, parents first."""
    skipped: frozenset[str] = frozenset()
    """Targets another wheel of the plan also ships and writes (RECORD still lists them here)."""

    @property
    def announced(self) -> list[str]:
        """Every path this wheel may write in the target (its journal lines)."""
        return [target for _file, target in self.files] + [target for *_, target in self.launchers]


def place(
    wheel: UnpackedWheel,
    scheme: Mapping[str, str],
    root: str,
    staging: str,
    launchers: Sequence[Launcher] = (),
) -> Placement:
    """Where ``wheel``'s files go: ``scheme`` as absolute folders, ``root`` the target's root (folders
    are listed from just below it), ``staging`` where the dist-info is written before it is renamed into
    place (the folder itself: no parent per wheel to make and remove)."""
    folders_of = dict(scheme)
    folders_of["headers"] = os.path.join(folders_of["headers"], header_name(wheel.wheel))  # noqa: PTH118
    prefixes = {name: folder + os.sep for name, folder in folders_of.items()}
    staged_prefix = staging + os.sep
    dist_prefix = wheel.dist_info_dir + "/"
    root_scheme = wheel.root_scheme
    native = os.sep == "/"
    files: list[tuple[UnpackedFile, str]] = []
    staged: list[tuple[UnpackedFile, str]] = []
    heads: set[tuple[str, str]] = set()
    staged_heads = {staging}
    for file in wheel.files:
        relative = file.path if native else file.path.replace("/", os.sep)
        if file.scheme == root_scheme and file.path.startswith(dist_prefix):
            staged.append((file, staged_prefix + relative[len(dist_prefix) :]))
            staged_heads.add(os.path.dirname(staged[-1][1]))  # noqa: PTH120
            continue
        files.append((file, prefixes[file.scheme] + relative))
        heads.add((file.scheme, file.path.rpartition("/")[0]))
    placed = [(name, data, prefixes["scripts"] + name) for name, data in launchers]
    if placed:
        heads.add(("scripts", ""))
    return Placement(
        wheel=wheel.wheel,
        scheme=folders_of,
        staging=staging,
        dist_info=folders_of[root_scheme] + os.sep + wheel.dist_info_dir,
        files=tuple(files),
        staged=tuple(staged),
        launchers=tuple(placed),
        folders=_folders(heads, folders_of, root),
        staged_folders=tuple(sorted(staged_heads)),
    )


def _folders(heads: set[tuple[str, str]], scheme: Mapping[str, str], root: str) -> tuple[str, ...]:
    """Every folder of ``heads`` (scheme, folder inside it) with all its parents up to just below
    ``root``, sorted so a parent comes before its children (a path sorts before its extensions)."""
    folders: set[str] = set()
    for name in {name for name, _head in heads}:
        folders.update(_ancestors(scheme[name], root))
    for name, head in heads:
        if not head:
            continue
        path = scheme[name] + os.sep + (head if os.sep == "/" else head.replace("/", os.sep))
        start = len(scheme[name]) + 1
        while path not in folders:  # a folder listed has its parents listed too
            folders.add(path)
            cut = path.rfind(os.sep, start)
            if cut == -1:
                break
            path = path[:cut]
    return tuple(sorted(folders))


def _ancestors(folder: str, root: str) -> list[str]:
    """``folder`` and its parents strictly below ``root`` (just ``folder`` when it is not under it)."""
    top = root.rstrip(os.sep) + os.sep
    if not folder.startswith(top):
        return [folder]
    found = []
    at = folder.find(os.sep, len(top))
    while at != -1:  # each separator below the root ends a parent
        found.append(folder[:at])
        at = folder.find(os.sep, at + 1)
    return [*found, folder]


def claim(placements: Sequence[Placement]) -> list[Placement]:
    """``placements`` (in name order) with the targets two of them ship marked ``skipped`` in all but
    the last: each path is written once, by one wheel, so a rollback knows whose file it was."""
    owner: dict[str, int] = {}
    for index, placement in enumerate(placements):
        for target in placement.announced:
            owner[target] = index
    if len(owner) == sum(len(p.files) + len(p.launchers) for p in placements):
        return list(placements)  # no path is shipped twice (the usual case)
    result = []
    for index, placement in enumerate(placements):
        skipped = frozenset(t for t in placement.announced if owner[t] != index)
        if skipped:
            placement = dataclasses.replace(
                placement,
                files=tuple(item for item in placement.files if item[1] not in skipped),
                launchers=tuple(item for item in placement.launchers if item[2] not in skipped),
                skipped=skipped,
            )
        result.append(placement)
    return result


@dataclass(frozen=True)
class Collision:
    """One path two wheels both write, with different bytes."""

    target: str
    first: str
    """The wheel that claimed it first (file name)."""
    second: str

    def message(self, root: str | None = None) -> str:
        """What the refusal says; ``root``: the target is shown relative to it."""
        shown = self.target if root is None else os.path.relpath(self.target, root)
        return (
            f"{self.first} and {self.second} both write {shown} with different contents; one would "
            "silently replace the other's file"
        )


def collisions(claims: Iterable[tuple[str, str, str]]) -> list[Collision]:
    """The targets of ``claims`` (target, wheel, digest of the bytes written there) that two wheels write
    with different bytes, in claim order. The same bytes from two wheels (a namespace package's shared
    ``__init__.py``) are no collision: whichever lands, the file is the same (docs/sync.md)."""
    first: dict[str, tuple[str, str]] = {}
    found: list[Collision] = []
    for target, wheel, digest in claims:
        earlier = first.setdefault(target, (wheel, digest))
        if earlier[1] != digest and earlier[0] != wheel:
            found.append(Collision(target, earlier[0], wheel))
    return found


def placement_claims(placements: Sequence[Placement]) -> Iterator[tuple[str, str, str]]:
    """Every (target, wheel, digest) the placements write: files by their RECORD hash, launchers by
    their bytes."""
    for where in placements:
        for file, target in where.files:
            yield target, where.wheel, file.hash
        for _name, data, target in where.launchers:
            yield target, where.wheel, hashlib.sha256(data).hexdigest()


def header_name(wheel_filename: str) -> str:
    """The project name as pip derives it from a wheel file name (``foo_bar`` -> ``foo-bar``)."""
    return validate.file_name(wheel_filename.split("-", 1)[0].replace("_", "-"), "wheel name")
