# ruff: noqa: PTH118, PTH208
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""The installed distributions of a site-packages folder as the check reads them: PEP 503 names, metadata
folders, their name, version and installer (standard library only: part of the launchers' runtime)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing (import time)
    from collections.abc import Sequence


def canonical_name(name: str) -> str:
    """PEP 503 normalized project name (``Prometheus_Client`` -> ``prometheus-client``)."""
    out = []
    previous_sep = False
    for char in name.lower():
        if char in "-_.":
            if not previous_sep:
                out.append("-")
            previous_sep = True
        else:
            out.append(char)
            previous_sep = False
    return "".join(out)


def _read_headers(path: str, wanted: Sequence[str]) -> dict[str, str]:
    """The first value of each wanted header of an RFC 822 style METADATA file (stops at the body)."""
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if sep and key in wanted and key not in found:
                    found[key] = value.strip()
    except OSError:
        pass
    return found


def read_installer(dist_info: str) -> str | None:
    """The first line of a metadata folder's INSTALLER file (``pip``, ``envlock``, ``uv``), if any."""
    try:
        with open(os.path.join(dist_info, "INSTALLER"), encoding="utf-8", errors="replace") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return text.splitlines()[0].strip() if text else None


def metadata_dir_names(site: str) -> list[str]:
    """Sorted names of ``*.dist-info`` and ``*.egg-info`` entries of one site-packages folder."""
    try:
        names = os.listdir(site)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith((".dist-info", ".egg-info")))


def dist_name_version(site: str, dirname: str) -> tuple[str, str]:
    """Project name (normalized) and version of one metadata folder: METADATA first, else the name."""
    folder = os.path.join(site, dirname)
    filename = "METADATA" if dirname.endswith(".dist-info") else "PKG-INFO"
    headers = _read_headers(os.path.join(folder, filename), ("Name", "Version"))
    stem = dirname.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    return canonical_name(headers.get("Name", name)), headers.get("Version", version.partition("-")[0])
