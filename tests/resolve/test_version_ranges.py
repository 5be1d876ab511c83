"""Bisection narrows a specifier to a slice of the versions; the slice is checked with packaging's exact
rules, so the answer is always what ``SpecifierSet.filter`` gives (prereleases, post, local versions)."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envlock.resolve.version_ranges import AdmittedVersions

VERSIONS = sorted(
    Version(v)
    for v in [
        "0.9", "1.0.dev1", "1.0a1", "1.0rc2", "1.0", "1.0+cpu", "1.0+cu118", "1.0.post1", "1.0.1",
        "1.1", "1.1.post2", "1.4.5", "1.4.9", "1.5", "2.0b1", "2.0", "2.0+local", "2.0.1", "10.0",
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        ">=1.0", ">1.0", "<1.0", "<=1.0", "==1.0", "==1.0+cpu", "==1.0.*", "!=1.0", "~=1.4.5", "~=1.4",
        ">=1.0,<2.0", ">1.0,<=2.0", "===1.0", "<2.0b1", ">=2.0b1", "==2.0", "<=2.0", ">0.9,!=1.1,<10",
        "", "==7",
    ],
)  # fmt: skip
def test_admitted_is_packaging_filter_newest_first(text: str) -> None:
    specifier = SpecifierSet(text)
    newest_first, as_set = AdmittedVersions().admitted("p", VERSIONS, specifier)
    expected = sorted(specifier.filter(VERSIONS, prereleases=True), reverse=True)
    assert list(newest_first) == expected
    assert as_set == set(expected)
