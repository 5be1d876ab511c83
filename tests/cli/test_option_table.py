"""Options declared once (issue 27): every click command's parameters are the option table's, the quick
parser accepts exactly the table's quick options, and the kept-verdict key and the recorded settings
come from the same rows."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import click
import pytest

from envlock import option_table, quick
from envlock.cli import COMMANDS, cli
from envlock.cli.compile import CompileRequest
from envlock.errors import RequirementsFileError
from envlock.inputs import kept_cache
from envlock.inputs.config import ToolSettings
from envlock.inputs.envlock_table import read_tool_settings
from envlock.inputs.settings import RECORDED, CompileSettings
from envlock.option_table import Option

NOT_IN_TABLE = {"version"}
"""``envlock --version`` (click's own version option)."""


def click_command(name: str) -> click.Command:
    if name == "envlock":
        return cli
    command: click.Command = importlib.import_module(COMMANDS[name]).command
    return command


def _plain(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    return str(value) if isinstance(value, Path) else value


def _type(param: click.Parameter) -> tuple[object, ...]:
    kind = param.type
    if isinstance(kind, click.Path):
        return ("path", kind.file_okay, kind.dir_okay, kind.exists)
    if isinstance(kind, click.Choice):
        return ("choice", tuple(kind.choices))
    if isinstance(kind, click.IntRange):
        return ("int", kind.min)
    return (kind.name,)


def _expected_type(option: Option) -> tuple[object, ...]:
    if option.kind == "choice":
        return ("choice", option.choices)
    if option.kind == "flag":
        return ("boolean",)
    if option.kind == "count":
        return ("int", 0)
    return {
        "text": ("text",),
        "raw": ("text",),
        "path": ("path", True, True, False),
        "file": ("path", True, False, False),
        "dir": ("path", False, True, False),
        "existing-dir": ("path", False, True, True),
        "natural": ("int", 0),
    }[option.type]


def test_the_table_names_every_command() -> None:
    assert set(option_table.COMMANDS) == {*COMMANDS, "envlock"}


@pytest.mark.parametrize("name", sorted(option_table.COMMANDS))
def test_click_s_parameters_are_the_table_s(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names, flags, kind (flag, count, multiple, nargs), type, default, variable, metavar, help and
    whether it is required: an option declared by hand beside the table (or a row click lacks) fails."""
    command = click_command(name)
    params = [p for p in command.params if p.name not in NOT_IN_TABLE]
    table = (*option_table.options(name), *option_table.output_options(name))
    assert [p.name for p in params] == [o.dest for o in table]
    for option in table:
        if option.envvar:
            monkeypatch.delenv(option.envvar, raising=False)
    received = command.make_context(name, [], resilient_parsing=True).params
    for param, option in zip(params, table, strict=True):
        where = f"{name} {option.dest}"
        if option.kind in ("argument", "arguments"):
            assert isinstance(param, click.Argument), where
            assert param.nargs == (-1 if option.kind == "arguments" else 1), where
            assert param.metavar == option.metavar, where
        else:
            assert isinstance(param, click.Option), where
            assert (tuple(param.opts), param.secondary_opts) == (option.flags, []), where
            assert param.multiple == (option.kind == "multi"), where
            assert param.is_flag == (option.kind == "flag"), where
            assert param.count == (option.kind == "count"), where
            described = (param.envvar, param.metavar, param.help)
            assert described == (option.envvar, option.metavar, option.help), where
            assert bool(param.show_default) == option.show_default, where
        assert param.required == option.required, where
        if option.type != "raw":
            assert _type(param) == _expected_type(option), where
        if not option.required:  # a required one has no default (None under resilient parsing)
            assert _plain(received.get(param.name or "")) == _plain(option.unset), where


@pytest.mark.parametrize("name", sorted(option_table.COMMANDS))
def test_a_value_option_given_no_value_is_refused(name: str) -> None:
    """``sync --extra`` (the value missing) is a usage error, never an option holding None: click >= 8.2
    reads an explicit ``is_flag=False`` as "the value is optional" (found by the differential test)."""
    command = click_command(name)
    for option in option_table.options(name):
        if option.kind not in ("value", "multi", "choice"):
            continue
        with pytest.raises(click.UsageError, match="requires an argument"):
            command.make_context(name, [option.flags[-1]])


@pytest.mark.parametrize("name", ["sync", "check", "compile", "envlock"])
def test_the_quick_parser_takes_exactly_the_table_s_quick_options(name: str) -> None:
    """Each flag the quick answer parses is a click option of the command, of the same kind; every
    other option of the command (and any flag of no command) goes to click."""
    spec = {flag: kind for flag, (kind, _dest) in option_table.quick_spec(name)[0].items()}
    by_flag = {flag: param for param in click_command(name).params for flag in param.opts}
    quick_flags = {flag for option in option_table.options(name) if option.quick for flag in option.flags}
    assert set(spec) == quick_flags and quick_flags <= set(by_flag)
    for flag, kind in spec.items():
        param = by_flag[flag]
        assert isinstance(param, click.Option)
        assert kind == ("multi" if param.multiple else "flag" if param.is_flag or param.count else "value")
        args = [flag] if kind == "flag" else [flag, "x"]
        assert quick.parse(args, spec) is not None, flag
    for flag in set(by_flag) - quick_flags - {"--version"}:
        if by_flag[flag].param_type_name == "option":
            assert quick.parse([flag, "x"], spec) is None, flag
            if name != "envlock":
                assert quick.answer([name, flag, "x"]) is None, flag
    assert quick.parse(["--no-such-option"], spec) is None


def test_the_quick_answers_take_the_table_s_positional_arguments() -> None:
    counts = {name: option_table.quick_spec(name)[1] for name in ("sync", "check", "compile")}
    assert counts["sync"] == 1 and counts["check"] == 0 and counts["compile"] > 1000
    assert quick.answer(["check", "extra-argument"]) is None


def test_the_kept_verdict_keys_every_compile_option_that_decides_the_outcome() -> None:
    """Every compile option but ``-U``, ``-P``, ``--dry-run`` (never answered from a verdict) and
    ``--cache-dir`` (where verdicts are) is in the key."""
    names = {option.dest for option in option_table.options("compile")}
    assert set(kept_cache.REQUEST_FIELDS) == names - {"upgrade", "upgrade_packages", "dry_run", "cache_dir"}
    assert kept_cache.REQUEST_FIELDS["sources"] == "paths" and kept_cache.REQUEST_FIELDS["output"] == "path"


def test_the_settings_a_lock_records_are_the_table_s_lock_column() -> None:
    fields = {f.name for f in dataclasses.fields(CompileSettings)}
    assert set(RECORDED) == fields
    assert {RECORDED[o.dest] for o in option_table.recorded("compile")} == set(RECORDED.values()) - {"target"}
    every: dict[str, Any] = {
        "sources": ("a.in",),
        "index_url": "https://i.example/simple/",
        "extra_index_urls": ("https://j.example/simple/",),
        "find_links": ("wheels",),
        "pre": True,
        "only_binary": (":all:",),
        "no_binary": ("b",),
        "extras": ("x",),
        "groups": ("g",),
        "exclude_newer": "2024-01-01",
        "python_version": "3.12",
        "targets": ("cp312-linux-x86_64",),
        "universal": False,
        "target": {"targets": "cp312-linux-x86_64"},
    }
    settings = CompileSettings(**every)
    recorded = settings.to_tool()
    assert "target" not in recorded  # given by targets: recorded once
    assert CompileSettings.from_tool(recorded) == settings
    earlier = {**recorded, "target": {"targets": "cp312-linux-x86_64"}}  # as an earlier envlock wrote it
    assert CompileSettings.from_tool(earlier) == settings


def test_tool_envlock_takes_the_table_s_tool_keys() -> None:
    """``[tool.envlock]`` knows each option default the table names (``ToolSettings``), and the
    project's own keys; an unknown key is refused with the known ones listed."""
    keys = option_table.tool_keys()
    assert {f.name for f in dataclasses.fields(ToolSettings)} == {k.replace("-", "_") for k in keys}
    data = {"tool": {"envlock": {"pre": True, "targets": ["cp312-linux-x86_64"], "keyring": False}}}
    expected = ToolSettings(pre=True, targets=("cp312-linux-x86_64",))
    assert read_tool_settings(data, "pyproject.toml") == expected
    with pytest.raises(RequirementsFileError, match="unknown setting") as refused:
        read_tool_settings({"tool": {"envlock": {"surprise": 1}}}, "pyproject.toml")
    assert str(refused.value.hint).startswith("known: cache-keys, exclude-newer, extra-index-urls")
    with pytest.raises(RequirementsFileError, match="extras must be a list of strings"):
        read_tool_settings({"tool": {"envlock": {"extras": "dev"}}}, "pyproject.toml")


def test_a_compile_request_is_the_table_s_compile_rows() -> None:
    """The recorded rows make ``CompileSettings`` (with the target's identity compile decides), the others
    the rest of ``CompileRequest``."""
    rows = option_table.options("compile")
    request = {f.name for f in dataclasses.fields(CompileRequest)} - {"settings"}
    assert request == {o.dest for o in rows if o.lock is None}
    settings = {f.name for f in dataclasses.fields(CompileSettings)}
    assert settings == {o.dest for o in rows if o.lock} | {"target"}
