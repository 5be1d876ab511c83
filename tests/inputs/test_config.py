"""The input model's fingerprint: what changes it and what does not."""

from __future__ import annotations

from pathlib import Path

from envlock.inputs.config import IndexConfig, ResolverOptions, fingerprint
from envlock.inputs.requirements_file import read_requirements_files

TARGET = {"python_version": "3.11", "sys_platform": "linux"}


def read(tmp: Path, text: str, env: dict[str, str] | None = None, name: str = "requirements.in"):  # type: ignore[no-untyped-def]
    path = tmp / name
    path.write_text(text)
    return read_requirements_files([path], env or {}, base=tmp)


def test_fingerprint_ignores_order_comments_and_credentials(tmp_path: Path) -> None:
    one = read(tmp_path, "# hi\nA>=1\nb\n")
    two = read(tmp_path, "b  # why\na>=1\n", name="other.in")
    index = IndexConfig("https://user:secret@h/simple")
    same_index = IndexConfig("https://other:pw@h/simple")
    opts = ResolverOptions()
    assert fingerprint(one, index=index, options=opts, target=TARGET) == fingerprint(
        two, index=same_index, options=opts, target=TARGET
    )
    changed = read(tmp_path, "a>=2\nb\n", name="third.in")
    base = fingerprint(one, index=index, options=opts, target=TARGET)
    assert fingerprint(changed, index=index, options=opts, target=TARGET) != base
    assert fingerprint(one, index=index, options=ResolverOptions(pre=True), target=TARGET) != base
    assert fingerprint(one, index=index, options=opts, target={**TARGET, "python_version": "3.12"}) != base
    assert fingerprint(one, index=IndexConfig("https://x/simple"), options=opts, target=TARGET) != base


def test_fingerprint_of_local_find_links_is_relative_to_the_inputs(tmp_path: Path) -> None:
    prints = []
    for checkout in (tmp_path / "one", tmp_path / "two"):
        checkout.mkdir()
        (checkout / "wheels").mkdir()
        inputs = read(checkout, "--find-links wheels\na\n")
        assert inputs.index.find_links == (str(checkout / "wheels"),)  # absolute for the index client
        prints.append(fingerprint(inputs, index=inputs.index, options=ResolverOptions(), target=TARGET))
    assert prints[0] == prints[1]
    elsewhere = IndexConfig(find_links=(str(tmp_path / "one" / "elsewhere"),))
    assert fingerprint(inputs, index=elsewhere, options=ResolverOptions(), target=TARGET) != prints[0]
