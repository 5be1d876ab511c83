"""Provider tests on data: an in-memory index snapshot + requirements -> expected pins (no network)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envlock.env.interpreter import TargetEnvironment
from envlock.errors import NetworkError, ProjectNotFoundError, ResolutionError
from envlock.index.core_metadata import CoreMetadata
from envlock.index.pages import DistFile, ProjectPage, page_of
from envlock.inputs.config import InputRequirement, ResolverOptions
from envlock.resolve.models import ResolveRequest
from envlock.resolve.resolver import resolve

LINUX_311 = TargetEnvironment(
    markers={
        "python_version": "3.11",
        "python_full_version": "3.11.4",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": "3.11.4",
        "platform_release": "",
        "platform_version": "",
    },
    tags=(
        "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-abi3-manylinux_2_17_x86_64",
        "py311-none-any",
        "py3-none-any",
    ),
    description="test linux 3.11",
)


@dataclass(frozen=True)
class Rel:
    """One release in the fake index."""

    version: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    yanked: bool = False
    tags: tuple[str, ...] = ("py3-none-any",)
    sdist: bool = False


@dataclass
class FakeIndex:
    """IndexLike over a dict snapshot; counts metadata reads."""

    projects: Mapping[str, Sequence[Rel]]
    metadata_reads: list[str] = field(default_factory=list)

    def project(self, name: str) -> ProjectPage:
        canonical = canonicalize_name(name)
        if canonical not in self.projects:
            raise ProjectNotFoundError(canonical, "https://fake/simple/")
        files: list[DistFile] = []
        for rel in self.projects[canonical]:
            common = {
                "project": canonical,
                "version": Version(rel.version),
                "requires_python": rel.requires_python,
                "yanked": "bad" if rel.yanked else None,
                "index": "https://fake/simple/",
            }
            for tag in rel.tags:
                filename = f"{canonical}-{rel.version}-{tag}.whl"
                files.append(
                    DistFile(
                        filename=filename,
                        url=f"https://fake/{filename}",
                        is_wheel=True,
                        tags=frozenset({tag}),
                        hashes={"sha256": "0" * 64},
                        **common,  # type: ignore[arg-type]
                    )
                )
            if rel.sdist:
                filename = f"{canonical}-{rel.version}.tar.gz"
                files.append(
                    DistFile(
                        filename=filename,
                        url=f"https://fake/{filename}",
                        is_wheel=False,
                        hashes={"sha256": "1" * 64},
                        **common,  # type: ignore[arg-type]
                    )
                )
        return page_of(NormalizedName(canonical), "https://fake/simple/", files)

    def metadata(self, file: DistFile) -> CoreMetadata:
        self.metadata_reads.append(file.filename)
        rel = next(r for r in self.projects[file.project] if Version(r.version) == file.version)
        extras = sorted(
            {
                part.split("==")[1].strip().strip("'\"")
                for req in rel.requires
                for part in str(Requirement(req).marker or "").split(" and ")
                if "extra" in part
            }
        )
        return CoreMetadata(
            name=file.project,
            version=str(file.version),
            requires_dist=rel.requires,
            requires_python=rel.requires_python,
            provides_extra=tuple(extras),
        )


def pins_of(
    projects: Mapping[str, Sequence[Rel]],
    requirements: Sequence[str],
    *,
    constraints: Sequence[str] = (),
    options: ResolverOptions | None = None,
    preferences: Mapping[str, str] | None = None,
    target: TargetEnvironment = LINUX_311,
) -> dict[str, str]:
    request = ResolveRequest(
        requirements=tuple(
            InputRequirement(Requirement(r), f"requirements.in:{n}") for n, r in enumerate(requirements, 1)
        ),
        constraints=tuple(
            InputRequirement(Requirement(c), f"c.txt:{n}") for n, c in enumerate(constraints, 1)
        ),
        target=target,
        options=options or ResolverOptions(),
        preferences={k: Version(v) for k, v in (preferences or {}).items()},
        prefetch_workers=0,
    )
    resolution = resolve(FakeIndex(projects), request)
    return {pin.name: str(pin.version) for pin in resolution.pins}


CASES: list[tuple[str, dict[str, list[Rel]], list[str], dict[str, str]]] = [
    ("newest", {"a": [Rel("1.0"), Rel("2.0"), Rel("1.5")]}, ["a"], {"a": "2.0"}),
    (
        "pep440-order",
        {"a": [Rel("1.10"), Rel("1.9"), Rel("1.2.post1"), Rel("1.2")]},
        ["a<1.10"],
        {"a": "1.9"},
    ),
    ("post-release", {"a": [Rel("1.2"), Rel("1.2.post1")]}, ["a"], {"a": "1.2.post1"}),
    ("post-release-exact", {"a": [Rel("1.2"), Rel("1.2.post1")]}, ["a==1.2"], {"a": "1.2"}),
    ("local-version", {"a": [Rel("1.0"), Rel("1.0+local")]}, ["a==1.0"], {"a": "1.0+local"}),
    ("local-version-exact", {"a": [Rel("1.0"), Rel("1.0+local")]}, ["a==1.0+local"], {"a": "1.0+local"}),
    ("pre-skipped", {"a": [Rel("1.0"), Rel("2.0b1")]}, ["a"], {"a": "1.0"}),
    ("pre-named-in-specifier", {"a": [Rel("1.0"), Rel("2.0b1")]}, ["a>=2.0b1"], {"a": "2.0b1"}),
    ("pre-only-choice", {"a": [Rel("1.0"), Rel("2.0b1")]}, ["a>=1.5"], {"a": "2.0b1"}),
    ("pre-nothing-final", {"a": [Rel("2.0a1"), Rel("2.0b2")]}, ["a"], {"a": "2.0b2"}),
    ("yanked-ignored", {"a": [Rel("1.0"), Rel("2.0", yanked=True)]}, ["a"], {"a": "1.0"}),
    ("yanked-exact-pin", {"a": [Rel("1.0"), Rel("2.0", yanked=True)]}, ["a==2.0"], {"a": "2.0"}),
    (
        "requires-python-skips",
        {"a": [Rel("1.0"), Rel("2.0", requires_python=">=3.12")]},
        ["a"],
        {"a": "1.0"},
    ),
    (
        "no-compatible-wheel",
        {"a": [Rel("1.0"), Rel("2.0", tags=("cp312-cp312-win_amd64",))]},
        ["a"],
        {"a": "1.0"},
    ),
    (
        "sdist-only-is-candidate",
        {"a": [Rel("1.0"), Rel("2.0", tags=(), sdist=True)]},
        ["a"],
        {"a": "2.0"},
    ),
    (
        "transitive",
        {"a": [Rel("1.0", requires=("b>=2",))], "b": [Rel("1.0"), Rel("2.0"), Rel("3.0")]},
        ["a"],
        {"a": "1.0", "b": "3.0"},
    ),
    (
        "extras-direct",
        {"a": [Rel("1.0", requires=("b; extra == 'x'",))], "b": [Rel("1.0")]},
        ["a[x]"],
        {"a": "1.0", "b": "1.0"},
    ),
    (
        "extras-not-asked",
        {"a": [Rel("1.0", requires=("b; extra == 'x'",))], "b": [Rel("1.0")]},
        ["a"],
        {"a": "1.0"},
    ),
    (
        "extras-transitive",
        {
            "a": [Rel("1.0", requires=("b[y]",))],
            "b": [Rel("1.0", requires=("c; extra == 'y'",))],
            "c": [Rel("1.0")],
        },
        ["a"],
        {"a": "1.0", "b": "1.0", "c": "1.0"},
    ),
    (
        "markers-for-target",
        {
            "a": [Rel("1.0", requires=("w; sys_platform == 'win32'", "l; sys_platform == 'linux'"))],
            "w": [Rel("1.0")],
            "l": [Rel("1.0")],
        },
        ["a"],
        {"a": "1.0", "l": "1.0"},
    ),
    (
        "root-marker-false",
        {"a": [Rel("1.0")], "b": [Rel("1.0")]},
        ["a", "b; python_version < '3'"],
        {"a": "1.0"},
    ),
    (
        "backtracking",
        {
            "a": [Rel("1.0", requires=("c<2",)), Rel("2.0", requires=("c>=3",))],
            "b": [Rel("1.0", requires=("c<2",))],
            "c": [Rel("1.0"), Rel("2.0"), Rel("3.0")],
        },
        ["a", "b"],
        {"a": "1.0", "b": "1.0", "c": "1.0"},
    ),
    (
        "metadata-requires-python-backtracks",
        {"a": [Rel("1.0"), Rel("2.0")], "b": [Rel("1.0", requires=("a",))]},
        ["b", "a<3"],
        {"a": "2.0", "b": "1.0"},
    ),
]


@pytest.mark.parametrize(("case", "projects", "requirements", "expected"), CASES, ids=[c[0] for c in CASES])
def test_pins(
    case: str, projects: dict[str, list[Rel]], requirements: list[str], expected: dict[str, str]
) -> None:
    assert pins_of(projects, requirements) == expected


def test_pre_flag_allows_prereleases() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0b1")]}
    assert pins_of(projects, ["a"], options=ResolverOptions(pre=True)) == {"a": "2.0b1"}


def test_constraints_restrict_without_adding() -> None:
    projects = {"a": [Rel("1.0", requires=("b",))], "b": [Rel("1.0"), Rel("2.0")], "z": [Rel("1.0")]}
    assert pins_of(projects, ["a"], constraints=["b<2", "z==1.0"]) == {"a": "1.0", "b": "1.0"}


def test_yanked_constraint_pin_allows_it() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0", yanked=True)]}
    assert pins_of(projects, ["a"], constraints=["a==2.0"]) == {"a": "2.0"}


def test_preference_keeps_previous_pin() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0")]}
    assert pins_of(projects, ["a"], preferences={"a": "1.0"}) == {"a": "1.0"}


def test_preference_dropped_when_it_no_longer_satisfies() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0"), Rel("3.0")]}
    assert pins_of(projects, ["a>=2"], preferences={"a": "1.0"}) == {"a": "3.0"}


def test_only_binary_excludes_sdist_only_version() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0", tags=(), sdist=True)]}
    options = ResolverOptions(only_binary=frozenset({"a"}))
    assert pins_of(projects, ["a"], options=options) == {"a": "1.0"}


def test_no_binary_needs_sdist() -> None:
    projects = {"a": [Rel("1.0", sdist=True), Rel("2.0")]}
    options = ResolverOptions(no_binary=frozenset({":all:"}))
    assert pins_of(projects, ["a"], options=options) == {"a": "1.0"}


def test_conflict_names_the_chain() -> None:
    projects = {
        "a": [Rel("1.0", requires=("c>=2",))],
        "b": [Rel("1.0", requires=("c<2",))],
        "c": [Rel("1.0"), Rel("2.0")],
    }
    with pytest.raises(ResolutionError) as info:
        pins_of(projects, ["a", "b"])
    message = info.value.message
    assert "c" in message
    assert "requirements.in:1 → a 1.0 requires c>=2" in message
    assert "requirements.in:2 → b 1.0 requires c<2" in message


def test_no_matching_version_lists_reasons() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0", yanked=True), Rel("3.0", requires_python=">=3.12")]}
    with pytest.raises(ResolutionError) as info:
        pins_of(projects, ["a>=2"])
    message = info.value.message
    assert "no version of a satisfies a>=2 (required by requirements.in:1)" in message
    assert "a 2.0 is not a candidate: yanked" in message
    assert "a 3.0 is not a candidate: requires Python >=3.12" in message


def test_python_requirement_conflict_is_explained() -> None:
    projects = {"a": [Rel("1.0", requires=("b",))], "b": [Rel("1.0")]}
    # b's metadata (not the index) says it needs a newer Python than the target.
    index = FakeIndex(projects)
    original = index.metadata

    def metadata(file: DistFile) -> CoreMetadata:
        found = original(file)
        if file.project == "b":
            return CoreMetadata(found.name, found.version, (), ">=3.13", ())
        return found

    index.metadata = metadata  # type: ignore[method-assign]
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("a"), "requirements.in:1"),), target=LINUX_311
    )
    with pytest.raises(ResolutionError) as info:
        resolve(index, request)
    assert "Python >=3.13" in info.value.message
    assert "3.11.4" in info.value.message


def test_unknown_root_project_names_the_requirement() -> None:
    with pytest.raises(ResolutionError) as info:
        pins_of({}, ["nope"])
    assert info.value.message == (
        "project 'nope' is not on any index (https://fake/simple/): required by requirements.in:1"
    )
    assert info.value.hint is not None and "--extra-index-url" in info.value.hint


def test_a_missing_dependency_backtracks_to_an_older_release() -> None:
    projects = {"a": [Rel("1.0"), Rel("2.0", requires=("b",))]}
    assert pins_of(projects, ["a"]) == {"a": "1.0"}


def test_a_missing_dependency_of_every_release_names_who_requires_it() -> None:
    projects = {"a": [Rel("1.0", requires=("b",)), Rel("2.0", requires=("b>1",))]}
    with pytest.raises(ResolutionError) as info:
        pins_of(projects, ["a"])
    assert info.value.message.splitlines() == [
        "cannot resolve: these requirements name a project no index has:",
        "  requirements.in:1 → a 2.0 requires b>1, which is not on any index (https://fake/simple/)",
        "  requirements.in:1 → a 1.0 requires b, which is not on any index (https://fake/simple/)",
    ]


def test_network_errors_other_than_not_found_stay_fatal() -> None:
    class Broken(FakeIndex):
        def project(self, name: str) -> ProjectPage:
            if name == "b":
                raise NetworkError("https://fake/simple/b/: 503 Service Unavailable")
            return super().project(name)

    projects = {"a": [Rel("1.0"), Rel("2.0", requires=("b",))]}
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("a"), "requirements.in:1"),),
        target=LINUX_311,
        prefetch_workers=0,
    )
    with pytest.raises(NetworkError, match="503"):
        resolve(Broken(projects), request)


def test_via_dependencies_and_groups() -> None:
    projects = {"a": [Rel("1.0", requires=("b", "c; extra == 'x'"))], "b": [Rel("1.0")], "c": [Rel("1.0")]}
    request = ResolveRequest(
        requirements=(
            InputRequirement(Requirement("a"), "pyproject.toml [project.dependencies][0]"),
            InputRequirement(Requirement("a[x]"), "pyproject.toml [x][0]", "extra:x"),
        ),
        target=LINUX_311,
        prefetch_workers=4,
    )
    resolution = resolve(FakeIndex(projects), request)
    by_name = {pin.name: pin for pin in resolution.pins}
    assert [p.name for p in resolution.pins] == ["a", "b", "c"]
    assert by_name["a"].dependencies == ("b", "c")
    assert by_name["b"].via == ("a",)
    assert by_name["a"].via == ("pyproject.toml",)
    assert by_name["c"].groups == frozenset({"extra:x"})
    assert by_name["b"].groups == frozenset({"", "extra:x"})
    assert by_name["a"].files[0].filename == "a-1.0-py3-none-any.whl"


def test_prefetch_in_parallel_gives_same_pins() -> None:
    projects = {
        "a": [Rel("1.0", requires=("b", "c")), Rel("2.0", requires=("b>=2", "c"))],
        "b": [Rel("1.0"), Rel("2.0", requires=("d",))],
        "c": [Rel("1.0", requires=("d<2",))],
        "d": [Rel("1.0"), Rel("2.0")],
    }
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("a"), "requirements.in:1"),),
        target=LINUX_311,
        prefetch_workers=8,
    )
    pins = {p.name: str(p.version) for p in resolve(FakeIndex(projects), request).pins}
    assert pins == {"a": "2.0", "b": "2.0", "c": "1.0", "d": "1.0"}


def test_an_extra_the_package_does_not_provide_is_a_warning() -> None:
    projects = {"a": [Rel("1.0", requires=("b; extra == 'x'",))], "b": [Rel("1.0")]}
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("a[x,nope]"), "requirements.in:1"),),
        target=LINUX_311,
        prefetch_workers=0,
    )
    resolution = resolve(FakeIndex(projects), request)
    assert {p.name: str(p.version) for p in resolution.pins} == {"a": "1.0", "b": "1.0"}
    assert resolution.warnings == ("a 1.0 does not provide the extra 'nope' (required by requirements.in:1)",)
    provided = ResolveRequest(
        requirements=(InputRequirement(Requirement("a[x]"), "requirements.in:1"),), target=LINUX_311
    )
    assert resolve(FakeIndex(projects), provided).warnings == ()


def test_via_names_the_constraint_files_of_constrained_packages() -> None:
    projects = {"a": [Rel("1.0", requires=("b",))], "b": [Rel("1.0"), Rel("2.0")], "z": [Rel("1.0")]}
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("a"), "requirements.in:1"),),
        constraints=(
            InputRequirement(Requirement("b<2"), "constraints.txt:4"),
            InputRequirement(Requirement("z==1.0"), "constraints.txt:5"),  # not required: no pin
            InputRequirement(Requirement("b==1.0"), "--upgrade-package b==1.0"),
        ),
        target=LINUX_311,
        prefetch_workers=0,
    )
    by_name = {pin.name: pin for pin in resolve(FakeIndex(projects), request).pins}
    assert set(by_name) == {"a", "b"}
    assert by_name["b"].via == ("-c constraints.txt", "a")
    assert by_name["a"].via == ("-r requirements.in",)


PRERELEASE_AFTER_BACKTRACKING = {
    # x 1.6, the only final above 1.5, requires a q nobody has: the prerelease is all that satisfies.
    "x": [Rel("1.0"), Rel("1.6", requires=("q>9",)), Rel("1.7b1")],
    "q": [Rel("1.0")],
    # a 2.0 cannot be used (c>=2 does not exist): a 1.0's x>1.5 is reached only after backtracking.
    "a": [Rel("1.0", requires=("x>1.5",)), Rel("2.0", requires=("c>=2",))],
    "c": [Rel("1.0")],
}


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        (["x>1.5"], {"x": "1.7b1"}),
        (["a"], {"a": "1.0", "x": "1.7b1"}),
        (["x>1.5", "a"], {"a": "1.0", "x": "1.7b1"}),
    ],
)
def test_a_prerelease_resolves_what_every_final_fails(
    requirements: list[str], expected: dict[str, str]
) -> None:
    assert pins_of(PRERELEASE_AFTER_BACKTRACKING, requirements) == expected


def test_a_resolution_of_finals_only_wins_over_a_prerelease() -> None:
    # w 1.7b1 would avoid backtracking y; finals exist (y 1.0 with w 1.6), so they are locked.
    projects = {
        "y": [Rel("1.0"), Rel("2.0", requires=("q==1.0",))],
        "w": [Rel("1.6", requires=("q==2.0",)), Rel("1.7b1")],
        "q": [Rel("1.0"), Rel("2.0")],
    }
    assert pins_of(projects, ["y", "w>1.5"]) == {"q": "2.0", "w": "1.6", "y": "1.0"}


def test_a_conflict_that_prereleases_cannot_mend_names_the_finals() -> None:
    projects = {"x": [Rel("1.6", requires=("q>9",)), Rel("1.7b1", requires=("q>10",))], "q": [Rel("1.0")]}
    with pytest.raises(ResolutionError) as info:
        pins_of(projects, ["x>1.5"])
    assert "x 1.6 requires q>9" in info.value.message
    assert "1.7b1" not in info.value.message
