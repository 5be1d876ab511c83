"""Simple-API project pages (PEP 691 JSON, PEP 503 HTML, find-links pages) parsed into validated
``DistFile`` values: every field of a stranger's page is type-checked here, where it enters, and an
entry that is malformed or unsafe (a hash that is no hex digest, a file name with a folder part, a
``file:`` link on a remote page) fails the page (``InvalidPage`` / NetworkError naming the URL)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from envlock import validate
from envlock.errors import NetworkError
from envlock.validate import redact, strip_credentials


@dataclass(frozen=True)
class DistFile:
    """One distribution file listed for a project (on an index page or in find-links)."""

    filename: str
    url: str
    """Absolute URL without credentials (``file://`` for local find-links)."""
    project: NormalizedName
    version: Version
    is_wheel: bool
    tags: frozenset[str] = frozenset()
    """Wheel tags (``py3-none-any``...); empty for sdists."""
    hashes: Mapping[str, str] = field(default_factory=dict, compare=False)
    requires_python: str | None = None
    yanked: str | None = None
    """None if not yanked, else the reason ("" when none given)."""
    metadata_hashes: Mapping[str, str] | None = field(default=None, compare=False)
    """PEP 658/714: None when no metadata file is advertised, else its hashes (may be empty)."""
    size: int | None = None
    upload_time: datetime | None = None
    index: str | None = None
    """The index (credential-free base URL) that listed this file; None for find-links."""

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file://")

    @property
    def local_path(self) -> Path:
        return Path(unquote(urlsplit(self.url).path))


Pending = tuple[str, int, Any, "str | None"]
"""A page entry not validated yet: (file name, position on the page, the entry as served, its PEP 700
``upload-time`` as served). Filed under the version its file name states and validated in full (URL,
hashes, tags, upload time) only when that version is first asked for: uv's version map is lazy the
same way, as a resolution looks at a handful of botocore's 2,500 versions, never all. A plain tuple:
a page makes one per file (5,000 for botocore) on every run. The upload time lets ``--exclude-newer``
pass over versions uploaded after its instant without validating their entries."""

Realize = Callable[[Any, str], "DistFile | None"]
"""Validates a pending entry (its payload and file name) into a DistFile (None: not a distribution of
the project); raises InvalidPage for a malformed or unsafe entry."""


@dataclass(frozen=True, eq=False)
class ProjectPage:
    """All files of a project from the first index that has it, plus find-links files, by version."""

    name: NormalizedName
    index: str | None
    """Credential-free URL of the index that supplied the project (None: find-links only)."""
    groups: Mapping[Version, tuple[DistFile | Pending, ...]]
    """Version -> its entries, newest version first; an index's entries before find-links files."""
    url: str | None = None
    """The page's URL, named when an entry is refused."""
    realize: Realize | None = field(default=None, repr=False)
    """How the page's pending entries are validated (None: it has none)."""
    kind: str = "file entry"
    """What the page calls an entry (``file entry``, ``link``), for the message refusing one."""
    _validated: dict[Version, tuple[DistFile, ...]] = field(default_factory=dict, repr=False)

    @cached_property
    def newest_first(self) -> tuple[Version, ...]:
        return tuple(self.groups)

    @cached_property
    def ascending(self) -> tuple[Version, ...]:
        """The versions oldest first (for binary search)."""
        return tuple(reversed(self.newest_first))

    @cached_property
    def version_set(self) -> frozenset[Version]:
        return frozenset(self.groups)

    def versions(self) -> list[Version]:
        return list(self.groups)

    def uploaded_after(self, version: Version, cutoff: datetime) -> bool:
        """Does every entry of ``version`` state an upload time after ``cutoff``? (False when one
        states none or an earlier one: the version is then validated and judged in full.)"""
        entries = self.groups.get(version, ())
        for entry in entries:
            moment = entry.upload_time if isinstance(entry, DistFile) else _parse_time(entry[3])
            if moment is None or moment <= cutoff:
                return False
        return bool(entries)

    @property
    def files(self) -> tuple[DistFile, ...]:
        """Every file, oldest version first: validates every entry (the resolver never needs this)."""
        return tuple(f for version in self.ascending for f in self.files_for(version))

    def files_for(self, version: Version) -> tuple[DistFile, ...]:
        """The version's files, validated on first use (a malformed entry refuses the page: nothing
        from it is used), one per file name, sorted by file name."""
        known = self._validated.get(version)
        if known is None:
            known = self._validate(self.groups.get(version, ()))
            self._validated[version] = known  # a race with a prefetch thread computes it twice, harmlessly
        return known

    def _validate(self, entries: Sequence[DistFile | Pending]) -> tuple[DistFile, ...]:
        seen: dict[str, DistFile] = {}
        for entry in entries:
            if isinstance(entry, DistFile):
                made: DistFile | None = entry
            else:
                assert self.realize is not None  # a page with pending entries says how to validate them
                filename, position, payload, _uploaded = entry
                try:
                    made = self.realize(payload, filename)
                except InvalidPage as error:
                    raise _refused_page(self.url or "page", f"{self.kind} {position}: {error}") from None
            if made is not None:
                seen.setdefault(made.filename, made)
        return tuple(seen[name] for name in sorted(seen))


def page_of(
    name: NormalizedName,
    index: str | None,
    entries: Sequence[DistFile | Pending],
    url: str | None = None,
    realize: Realize | None = None,
    kind: str = "file entry",
) -> ProjectPage:
    """A page of ``entries``, filed by the version each file name states; an entry whose name is not
    a distribution of ``name`` (another project, no version) is left out."""
    groups: dict[Version, list[DistFile | Pending]] = {}
    names: dict[str, bool] = {}
    for entry in entries:
        if isinstance(entry, DistFile):
            if entry.project == name:
                groups.setdefault(entry.version, []).append(entry)
            continue
        text = _stated_version(entry[0], name, names)
        if text is None:
            continue
        version = _version(text)
        if version is not None:
            groups.setdefault(version, []).append(entry)
    ordered = {v: tuple(groups[v]) for v in sorted(groups, reverse=True)}
    return ProjectPage(name, index, ordered, url, realize, kind)


@lru_cache(maxsize=8192)
def _version(text: str) -> Version | None:
    """A file name's version text parsed once per process (None: not a version): pages spell the same
    versions (1.0, 2.0, ...), and a shared ``Version`` computes its sort key once for every page."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _stated_version(filename: str, project: NormalizedName, names: dict[str, bool]) -> str | None:
    """The version a distribution file name of ``project`` states (as packaging splits it), cheaply:
    no tag parsing, no URL work; the full parse happens when the version is used."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            return None
        name, version = parts[0], parts[1]
    elif filename.endswith((".tar.gz", ".zip")):
        stem = filename[: -7 if filename.endswith(".tar.gz") else -4]
        name, dash, version = stem.rpartition("-")
        if not dash:
            return None
    else:
        return None
    ours = names.get(name)
    if ours is None:  # a page's file names spell the project a few ways: canonicalize each once
        ours = names[name] = canonicalize_name(name) == project
    return version if ours else None


def _with(file: DistFile, **changes: Any) -> DistFile:
    return replace(file, **changes)


class InvalidPage(ValueError):
    """A file entry of a page that must not be used (malformed hash, name or URL)."""


def _dist_file(
    filename: str,
    url: str,
    project: NormalizedName | None,
    *,
    index: str | None,
    local: bool = False,
    **extra: Any,
) -> DistFile | None:
    """The file a page entry describes, validated: None for what is not a distribution (or of another
    project); ``InvalidPage`` for an entry that is malformed or unsafe. Only ``local`` (a find-links
    folder of this machine) may name ``file:`` URLs: a page from a server may not point at local files."""
    _dist_name(filename)
    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            tag_set = frozenset(str(t) for t in tags)
            is_wheel = True
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            tag_set = frozenset()
            is_wheel = False
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    if project is not None and name != project:
        return None
    parts = urlsplit(url)
    allowed = {"file"} if local else validate.REMOTE_SCHEMES
    if parts.scheme.lower() not in allowed:
        raise InvalidPage(f"{filename}: link scheme {parts.scheme or '(none)'!r} is not allowed here")
    hashes: dict[str, str] = dict(extra.pop("hashes", None) or {})
    for piece in parts.fragment.split("&"):
        algo, _, value = piece.partition("=")
        if algo in ("sha256", "sha384", "sha512") and value:
            hashes.setdefault(algo, value)
    try:
        checked = {algo: validate.digest(algo, value) for algo, value in hashes.items()}
    except validate.UnsafeInput as error:
        raise InvalidPage(f"{filename}: {error}") from None
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    return DistFile(
        filename=filename,
        url=strip_credentials(clean),
        project=name,
        version=version,
        is_wheel=is_wheel,
        tags=tag_set,
        hashes={k: v for k, v in sorted(checked.items()) if k == "sha256"},
        index=index,
        **extra,
    )


def _dist_name(filename: str) -> None:
    """A distribution's file name must be a plain file name (no folder part, no control characters)."""
    if filename.endswith((".whl", ".tar.gz", ".zip")):
        try:
            validate.file_name(filename)
        except validate.UnsafeInput as error:
            raise InvalidPage(str(error)) from None


def _metadata_hashes(value: Any) -> Mapping[str, str] | None:
    """PEP 658/714 ``core-metadata``: None (no metadata file, or one whose hashes are malformed: the
    wheel is read instead), else the advertised hashes (maybe none)."""
    if value is None or value is False:
        return None
    try:
        if isinstance(value, Mapping):
            return {str(k): validate.digest(str(k), v) for k, v in value.items()}
        if isinstance(value, str):
            if value.lower() == "true" or not value:
                return {}
            algo, _, digest = value.partition("=")
            return {algo: validate.digest(algo, digest)} if digest else {}
    except validate.UnsafeInput:
        return None
    return {} if value is True else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # lazy: only a non-ISO upload time needs it; a warm compile (JSON pages) never imports email.*.
        import email.utils

        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def parse_page(
    body: bytes,
    content_type: str,
    url: str,
    name: NormalizedName,
    index: str,
    extra: Sequence[DistFile] = (),
) -> ProjectPage:
    """The project page ``url`` served (JSON or HTML), plus ``extra`` (find-links) files, validated
    lazily: the page's structure and file names now, each version's entries when first asked for."""
    if "json" in content_type:
        entries = _json_entries(body, url)
        realize: Realize = partial(_json_realize, url=url, name=name, index=index)
        kind = "file entry"
    else:
        entries = _html_entries(body, url)
        realize, kind = partial(_html_realize, name=name, index=index), "link"
    return page_of(name, index, [*entries, *extra], url, realize, kind)


def _json_realize(
    entry: Any, filename: str, *, url: str, name: NormalizedName, index: str
) -> DistFile | None:
    return _json_entry(entry, url, name, index)


def _html_realize(
    payload: Any, filename: str, *, name: NormalizedName | None, index: str | None
) -> DistFile | None:
    link, href = payload
    return _html_entry(link, href, filename, name, index)


def _parse_json_page(body: bytes, url: str, name: NormalizedName, index: str) -> tuple[DistFile, ...]:
    """Every file of a JSON page, validated now (tests; a page's own use is lazy)."""
    realize = partial(_json_realize, url=url, name=name, index=index)
    return ProjectPage(name, index, {}, url, realize)._validate(_json_entries(body, url))


def _json_entries(body: bytes, url: str) -> list[Pending]:
    try:
        document = json.loads(body)
        entries = document["files"] if isinstance(document, Mapping) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        entries = None
    if not isinstance(entries, list):
        raise NetworkError(f"{redact(url)}: not a valid PEP 691 JSON page (no list of files)")
    pending = []
    for position, entry in enumerate(entries, 1):
        if type(entry) is not dict:  # json.loads makes dicts; an ABC check per entry costs more
            raise _refused_page(url, f"file entry {position}: not a JSON object")
        filename = entry.get("filename")
        if not isinstance(filename, str) or not isinstance(entry.get("url"), str):
            raise _refused_page(url, f"file entry {position}: 'filename' and 'url' must be strings")
        try:
            _dist_name(filename)
        except InvalidPage as error:
            raise _refused_page(url, f"file entry {position}: {error}") from None
        uploaded = entry.get("upload-time")
        pending.append((filename, position, entry, uploaded if isinstance(uploaded, str) else None))
    return pending


def _refused_page(url: str, detail: str) -> NetworkError:
    """A page refused whole because one of its entries is malformed or unsafe."""
    return NetworkError(
        f"{redact(url)}: {detail}",
        hint="the index serves a malformed or unsafe page; nothing from it was used",
    )


def _json_entry(entry: Any, url: str, name: NormalizedName, index: str) -> DistFile | None:
    """One PEP 691 file entry, every field type-checked (a page is a stranger's JSON)."""
    if not isinstance(entry, Mapping):
        raise InvalidPage("not a JSON object")
    filename, link = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(link, str):
        raise InvalidPage("'filename' and 'url' must be strings")
    hashes = entry.get("hashes") or {}
    if not isinstance(hashes, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in hashes.items()
    ):
        raise InvalidPage(f"{filename}: 'hashes' must map algorithm names to hex strings")
    yanked = entry.get("yanked", False)
    requires_python = entry.get("requires-python")
    size = entry.get("size")
    try:
        absolute = validate.join_url(url, link)
    except validate.UnsafeInput as error:
        raise InvalidPage(f"{filename}: {error}") from None
    return _dist_file(
        filename,
        absolute,
        name,
        index=index,
        hashes=dict(hashes),
        requires_python=requires_python if isinstance(requires_python, str) and requires_python else None,
        yanked=(yanked if isinstance(yanked, str) else "") if yanked else None,
        metadata_hashes=_metadata_hashes(entry.get("core-metadata", entry.get("dist-info-metadata"))),
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        upload_time=_parse_time(entry.get("upload-time")),
    )


def _html_links(text: str) -> tuple[str | None, list[dict[str, str | None]]]:
    """The ``<base href>`` and the attributes of every ``<a href>`` of an HTML page."""
    # lazy: a warm compile from a JSON index (PyPI) never parses HTML (html.parser: ~5 ms to import).
    import html.parser

    base: list[str | None] = []
    links: list[dict[str, str | None]] = []

    class LinkParser(html.parser.HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "base" and not base:
                base.append(dict(attrs).get("href"))
            elif tag == "a":
                values = dict(attrs)
                if values.get("href"):
                    links.append(values)

    parser = LinkParser(convert_charrefs=True)
    parser.feed(text)
    parser.close()
    return (base[0] if base else None), links


def _parse_html_page(
    body: bytes, url: str, name: NormalizedName | None, index: str | None
) -> tuple[DistFile, ...]:
    """Every file of an HTML page, validated now (a find-links page lists several projects)."""
    realize = partial(_html_realize, name=name, index=index)
    return ProjectPage(NormalizedName(""), index, {}, url, realize, "link")._validate(
        _html_entries(body, url)
    )


def _html_entries(body: bytes, url: str) -> list[Pending]:
    base_href, links = _html_links(body.decode("utf-8", errors="replace"))
    try:
        base = validate.join_url(url, base_href) if base_href else url
    except validate.UnsafeInput as error:
        raise NetworkError(f"{redact(url)}: <base href>: {error}") from None
    pending: list[Pending] = []
    for position, link in enumerate(links, 1):
        try:
            href = validate.join_url(base, str(link["href"]))
        except validate.UnsafeInput:
            continue  # a link that is no URL names no distribution file
        filename = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
        try:
            _dist_name(filename)
        except InvalidPage as error:
            raise _refused_page(url, f"link {position}: {error}") from None
        pending.append((filename, position, (link, href), None))
    return pending


def _html_entry(
    link: Mapping[str, str | None], href: str, filename: str, name: NormalizedName | None, index: str | None
) -> DistFile | None:
    metadata: str | None = None
    for attribute in ("data-core-metadata", "data-dist-info-metadata"):
        if attribute in link:
            metadata = link[attribute] or "true"
            break
    return _dist_file(
        filename,
        href,
        name,
        index=index,
        requires_python=link.get("data-requires-python") or None,
        yanked=(link["data-yanked"] or "") if "data-yanked" in link else None,
        metadata_hashes=_metadata_hashes(metadata),
    )
