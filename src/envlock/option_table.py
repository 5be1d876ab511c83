"""Every command's options, declared once: flags, kind, default, help, the lock setting each records and
how it merges. Click's options (``cli._options.table_options``), the quick parser (``quick``), the cached
"lock kept" key (``inputs.kept_cache``), the settings a lock records and ``compile --check`` compares
(``inputs.settings``) and the ``[tool.envlock]`` keys (``inputs.envlock_table``) all come from this
table; tests/cli/test_option_table.py compares it with every click command.

The merge rule of a compile setting (``merge``): ``sticky``, the command line, else the settings the
lock records (``lock``: its key under ``[tool.envlock.settings]``), else ``[tool.envlock]`` (``tool``:
its key there), else the default; ``target``, the target choice, taken from the lock whole, and only
when nothing names a target; ``run``, this run only (never recorded).

Standard library only, no ``typing`` or ``pathlib``: ``envlock check``'s answer imports it (``quick``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KINDS = ("flag", "count", "value", "multi", "choice", "argument", "arguments")
"""``flag`` (``--pre``), ``count`` (``-v -v``), ``value`` (one value), ``multi`` (repeatable),
``choice`` (one of ``choices``), ``argument`` (one positional), ``arguments`` (any number of them)."""

TYPES = ("text", "path", "file", "dir", "existing-dir", "natural", "raw")
"""What a value is: text; a path (``file``: not a folder; ``dir``: not a file; ``existing-dir``: a folder
that exists); ``natural``: an integer >= 0; ``raw``: passed on unparsed (``run``'s command)."""

MERGES = ("run", "sticky", "target")


class Option:
    """One option (or positional argument) of one command. A plain class, not a dataclass: ``check``'s
    answer imports this module, and ``dataclasses`` would be most of its start-up."""

    __slots__ = (
        "choices",
        "default",
        "dest",
        "envvar",
        "flags",
        "help",
        "kind",
        "lock",
        "merge",
        "metavar",
        "quick",
        "required",
        "show_default",
        "tool",
        "type",
    )

    def __init__(
        self,
        flags: str,
        dest: str,
        kind: str = "value",
        *,
        type: str = "text",
        default: str | None = None,
        envvar: str | None = None,
        metavar: str | None = None,
        help: str | None = None,
        lock: str | None = None,
        merge: str = "run",
        tool: str | None = None,
        quick: bool = False,
        choices: tuple[str, ...] = (),
        show_default: bool = False,
        required: bool = False,
    ) -> None:
        assert kind in KINDS and type in TYPES and merge in MERGES, (kind, type, merge)
        assert (merge == "run") == (lock is None), dest  # a recorded setting merges; nothing else does
        self.flags = tuple(flags.split())
        """``("-o", "--output")`` (declared ``"-o --output"``); a positional argument: ``()``."""
        self.dest = dest
        """The parameter's name (click's, ``CompileRequest``'s / ``CompileSettings``' field)."""
        self.kind = kind
        self.type = type
        self.default = default
        """The value when not given: None, or text (a path's, made a ``Path`` by click)."""
        self.envvar = envvar
        """The environment variable read when the option is not given."""
        self.metavar = metavar
        self.help = help
        self.lock = lock
        """The key this setting is recorded under in ``[tool.envlock.settings]`` (None: not recorded)."""
        self.merge = merge
        self.tool = tool
        """The ``[tool.envlock]`` key that gives its default (None: none)."""
        self.quick = quick
        """The quick answer (``quick``) parses it; any other option takes click's path."""
        self.choices = choices
        self.show_default = show_default
        self.required = required

    def __repr__(self) -> str:
        return f"Option({self.flags!r}, {self.dest!r}, {self.kind!r})"

    @property
    def unset(self) -> object:
        """What the command receives when the option is not given (and its variable is not set)."""
        if self.kind in ("multi", "arguments"):
            return ()
        if self.kind == "flag":
            return False
        if self.kind == "count":
            return 0
        return self.default


def _venv_and_lock(*, quick: bool = False) -> tuple[Option, Option]:
    """``--venv`` (default ``.venv``) and ``--lock`` (default: the lock the venv's stamp names) of the
    launch-time commands (check, run, launcher, doctor)."""
    return (
        Option(
            "--venv",
            "venv",
            type="path",
            default=".venv",
            show_default=True,
            help="The virtual environment.",
            quick=quick,
        ),
        Option(
            "--lock",
            "lock",
            type="path",
            help="The lock the venv must match. Default: the lock the venv was synced from.",
            quick=quick,
        ),
    )


def _lock_file() -> Option:
    """``--lock`` of the commands that read a lock (why, tree, outdated)."""
    return Option(
        "--lock",
        "lock",
        type="file",
        help="The lock to read. Default: [tool.envlock] lock, else pylock.toml.",
    )


def _json(help: str = "Print the answer as JSON.", *, quick: bool = False) -> Option:
    return Option("--json", "as_json", "flag", help=help, quick=quick)


def _edit() -> tuple[Option, ...]:
    """The pyproject table an ``add`` / ``remove`` edits (at most one), and ``--no-sync``."""
    return (
        Option(
            "--extra",
            "extra",
            metavar="NAME",
            help="This pyproject extra ([project.optional-dependencies] NAME).",
        ),
        Option(
            "--group",
            "group",
            metavar="NAME",
            help="This PEP 735 dependency group ([dependency-groups] NAME).",
        ),
        Option("--no-sync", "no_sync", "flag", help="Edit and compile; leave the venv alone."),
    )


def _lock_selection() -> tuple[Option, Option]:
    """``--extra`` / ``--group`` of the commands that read what a lock holds (export, bundle)."""
    return (
        Option("--extra", "extras", "multi", metavar="NAME", help="Include an extra of the lock."),
        Option(
            "--group",
            "groups",
            "multi",
            metavar="NAME",
            help="Include a dependency group [default-groups].",
        ),
    )


def _cache_dir(*, quick: bool = False) -> Option:
    """``--cache-dir`` without an environment variable (sync, bundle, outdated: ``ENVLOCK_CACHE_DIR`` is
    read where the cache is opened)."""
    return Option("--cache-dir", "cache_dir", type="dir", help="Cache folder.", quick=quick)


_CHECK_JSON = "Print a JSON document (schema: docs/check.md)."

# A table: each option on its own lines, its columns in one order, the help last.
# fmt: off
_DECLARED: dict[str, Callable[[], tuple[Option, ...]]] = {
    "envlock": lambda: (
        Option("-v --verbose", "verbose", "count", quick=True, help="Say more (repeatable)."),
        Option("-q --quiet", "quiet", "flag", quick=True, help="Print only errors."),
    ),

    "compile": lambda: (
        Option("", "sources", "arguments", type="file", lock="sources", merge="sticky", quick=True),
        Option("-o --output", "output", type="file", tool="output", quick=True,
            help="Lock file [pylock.toml]."),
        Option("--index-url", "index_url", envvar="ENVLOCK_INDEX_URL", metavar="URL", lock="index-url",
            merge="sticky", tool="index-url", quick=True, help="Primary index (simple API)."),
        Option("--extra-index-url", "extra_index_urls", "multi", metavar="URL", lock="extra-index-urls",
            merge="sticky", tool="extra-index-urls", quick=True, help="Later index."),
        Option("--find-links", "find_links", "multi", metavar="PATH|URL", lock="find-links", merge="sticky",
            tool="find-links", quick=True, help="Extra files source."),
        Option("-U --upgrade", "upgrade", "flag", help="Ignore the pins of the existing lock."),
        Option("-P --upgrade-package", "upgrade_packages", "multi", metavar="NAME[==VER]",
            help="Free one pin."),
        Option("--pre", "pre", "flag", lock="pre", merge="sticky", tool="pre", quick=True,
            help="Allow prereleases."),
        Option("--only-binary", "only_binary", "multi", metavar="NAME|:all:", lock="only-binary",
            merge="sticky", tool="only-binary", quick=True, help="Never use sdists."),
        Option("--no-binary", "no_binary", "multi", metavar="NAME|:all:", lock="no-binary", merge="sticky",
            tool="no-binary", quick=True, help="Never use wheels."),
        Option("--python", "python", metavar="PATH|NAME", quick=True,
            help="Resolve for this interpreter (./path, or a name on PATH)."),
        Option("--python-version", "python_version", metavar="X.Y[.Z]", lock="python-version", merge="target",
            tool="python-version", quick=True,
            help="Resolve for this Python version (on --python's platform)."),
        Option("--target", "targets", "multi", metavar="cpXY-OS-ARCH", lock="targets", merge="target",
            tool="targets", quick=True,
            help="Resolve for this target too (repeatable): cp312-windows-amd64, cp311-linux-x86_64..."),
        Option("--universal", "universal", "flag", lock="universal", merge="target", quick=True,
            help="Resolve for Linux, Windows and macOS and every CPython 3.10+ (--python-version: from X.Y) "
             "of the project's requires-python."),
        Option("--exclude-newer", "exclude_newer", metavar="TIMESTAMP", lock="exclude-newer", merge="sticky",
            tool="exclude-newer", quick=True, help="Ignore files uploaded after this instant (PEP 700)."),
        Option("--extra", "extras", "multi", metavar="NAME", lock="extras", merge="sticky", tool="extras",
            quick=True, help="Include a pyproject extra."),
        Option("--group", "groups", "multi", metavar="NAME", lock="groups", merge="sticky", tool="groups",
            quick=True, help="Include a PEP 735 dependency group."),
        Option("--no-default-groups", "no_default_groups", "flag", quick=True,
            help="Only the --group groups: not the lock's, [tool.envlock]'s or the project's dev group."),
        Option("--reset-settings", "reset_settings", "flag", quick=True,
            help="Do not take unset options from the settings the lock records."),
        Option("--check", "check", "flag", quick=True,
            help="Exit 1 if the lock is stale for its inputs (offline)."),
        Option("--dry-run", "dry_run", "flag", help="Print the lock instead of writing it."),
        Option("--cache-dir", "cache_dir", type="dir", envvar="ENVLOCK_CACHE_DIR", quick=True),
    ),
    "sync": lambda: (
        Option("", "lock", "argument", type="file", tool="lock", quick=True),
        Option("--venv", "venv", type="path", tool="venv", quick=True,
            help="The venv to sync [default: .venv]."),
        Option("--python", "python", metavar="VERSION|PATH",
            help="Interpreter for the venv (rebuilds on change)."),
        Option("--extra", "extras", "multi", metavar="NAME", quick=True,
            help="Install an extra of the lock (repeatable)."),
        Option("--group", "groups", "multi", metavar="NAME", quick=True,
            help="Install a dependency group (repeatable)."),
        Option("--no-default-groups", "no_default_groups", "flag",
            help="Install only the --group groups, not the lock's default-groups (e.g. dev, in production)."),
        Option("--dry-run", "dry_run", "flag", help="Show the plan; change nothing."),
        Option("--rebuild", "rebuild", "flag",
            help="Recreate the venv from scratch (swapped in on success)."),
        Option("--offline", "offline", "flag",
            help="Use only the cache (and --find-links); never the network."),
        Option("--find-links", "find_links", "multi", type="existing-dir", metavar="DIR",
            help="A folder of the lock's files (envlock bundle), looked in before any download "
             "(repeatable)."),
        Option("--only-binary", "only_binary", "multi", metavar="NAME|:all:", help="Never build these."),
        Option("--compile-bytecode", "compile_bytecode", "flag", help="Compile .pyc files after installing."),
        _cache_dir(quick=True),
        Option("--json", "as_json", "flag", help="Print the result as JSON (docs/sync.md)."),
        Option("--system", "system", "flag", help="Allow installing into a Python that is not a venv."),
        Option("--verify", "verify", "flag",
            help="Hash every installed file against its RECORD; reinstall any distribution that was "
             "modified."),
        Option("--link-mode", "link_mode", "choice", choices=("auto", "copy", "clone", "hardlink"),
            quick=True,
            help="How files get from the cache into the venv [default: ENVLOCK_LINK_MODE, else auto]."),
        Option("--target", "target", metavar="cpXY-OS-ARCH",
            help="With --into: the target whose packages to lay out."),
        Option("--into", "into", type="dir",
            help="Lay out --target's packages in this new folder (no venv, no interpreter run)."),
        Option("--into-python", "into_python", metavar="PATH",
            help="With --into: the interpreter scripts name."),
    ),
    "bundle": lambda: (
        Option("", "lock", "argument", type="file"),
        Option("-o --output", "output_dir", type="dir", required=True,
            help="The folder the files go to (made when missing; files already there and verified are "
             "kept)."),
        Option("--target", "targets", "multi", metavar="cpXY-OS-ARCH",
            help="Bundle this target's files (repeatable) [default: the venv's interpreter, as sync]."),
        Option("--venv", "venv", type="path", help="Without --target: its interpreter."),
        Option("--python", "python", metavar="VERSION|PATH",
            help="Without --target: this interpreter's files."),
        *_lock_selection(),
        Option("--no-default-groups", "no_default_groups", "flag", help="Include only the --group groups."),
        Option("--offline", "offline", "flag", help="Take the files from the cache only."),
        _cache_dir(),
    ),
    "diff": lambda: (
        Option("", "old", "argument", type="file"),
        Option("", "new", "argument", type="file"),
        Option("--git", "ref", metavar="REF", help="Compare the lock at this git commit [HEAD]."),
        Option("--format", "format_", "choice", default="text", choices=("text", "markdown", "json"),
            show_default=True, help="markdown fits a pull-request comment."),
    ),
    "import": lambda: (
        Option("", "requirements", "argument", type="file", required=True),
        Option("-o --output", "output", type="file", help="Lock file [pylock.toml]."),
        Option("--index-url", "index_url", metavar="URL",
            help="Look the pins up here instead of the file's --index-url [ENVLOCK_INDEX_URL, else PyPI]."),
        Option("--cache-dir", "cache_dir", type="dir", envvar="ENVLOCK_CACHE_DIR"),
    ),
    "check": lambda: (
        *_venv_and_lock(quick=True),
        Option("--deep", "deep", "flag", quick=True,
            help="Also verify every installed file against its RECORD hash."),
        _json(_CHECK_JSON, quick=True),
    ),
    "run": lambda: (
        *_venv_and_lock(),
        Option("--sync", "sync", "flag", help="Sync the venv first when it drifted."),
        Option("", "command", "arguments", type="raw", required=True),
    ),
    "launcher": lambda: (
        Option("", "name", "argument", required=True),
        *_venv_and_lock(),
        Option("-o --output", "out_dir", type="path", default="bin", show_default=True),
        Option("--chdir", "chdir", type="path", help="Run the command from this folder."),
        Option("--guard", "guard_dir", type="path",
            help="Also write the entry-point guard module envlock_guard.py into this folder."),
        Option("", "command", "arguments", type="raw", required=True),
    ),
    "doctor": lambda: (
        *_venv_and_lock(),
        _json(_CHECK_JSON),
    ),
    "export": lambda: (
        Option("", "lock", "argument", type="file"),
        Option("--format", "format_", "choice", default="requirements-txt", choices=("requirements-txt",),
            show_default=True, help="Output format."),
        Option("-o --output", "output", type="file", help="Write here [stdout]."),
        *_lock_selection(),
        Option("--no-emit-index-url", "no_emit_index_url", "flag",
            help="Leave out --index-url / --extra-index-url lines."),
    ),
    "add": lambda: (
        Option("", "specs", "arguments", metavar="SPEC...", required=True),
        *_edit(),
    ),
    "remove": lambda: (
        Option("", "names", "arguments", metavar="NAME...", required=True),
        *_edit(),
    ),
    "upgrade": lambda: (
        Option("", "names", "arguments", metavar="[NAME[==VER]]..."),
        Option("--no-sync", "no_sync", "flag", help="Update the lock; leave the venv alone."),
    ),
    "why": lambda: (
        Option("", "name", "argument", required=True),
        _lock_file(),
        _json(),
    ),
    "tree": lambda: (
        Option("--depth", "depth", type="natural", metavar="N", help="Show N levels below the top."),
        Option("--invert", "invert", metavar="NAME", help="Show what requires NAME, up to the inputs."),
        Option("--target", "target", metavar="SPEC", help="Only this target (cpXY-OS-ARCH)."),
        _lock_file(),
        _json(),
    ),
    "outdated": lambda: (
        _lock_file(),
        _json(),
        _cache_dir(),
    ),
}
# fmt: on
"""Each command's options and positional arguments, in ``--help`` order (``envlock``: the group's own);
built when first asked for, so ``check``'s answer builds its own few rows, not all of them."""
COMMANDS = tuple(_DECLARED)
"""The commands the table declares (``envlock``: the group)."""
_BUILT: dict[str, tuple[Option, ...]] = {}


def output_options(command: str) -> tuple[Option, ...]:
    """-v/-q after the command too (``envlock compile -q``, as pip-compile and uv take them), for every
    command but the group (its own) and those that pass a command line on (``run``, ``launcher``: a ``-v``
    there may be the command's). They set the output's verbosity, not the command's parameters; the quick
    answers leave a command line with them to click."""
    if command in ("envlock", "run", "launcher"):
        return ()
    return (
        Option("-v --verbose", "verbose", "count", help="Say more (repeatable)."),
        Option("-q --quiet", "quiet", "flag", help="Print only errors."),
    )


def options(command: str) -> tuple[Option, ...]:
    """The options and arguments of ``command`` (KeyError: no such command in the table)."""
    rows = _BUILT.get(command)
    if rows is None:
        rows = _BUILT[command] = _DECLARED[command]()
    return rows


def recorded(command: str = "compile") -> Iterator[Option]:
    """The options of ``command`` a lock records (``lock`` set), in table order."""
    return (option for option in options(command) if option.lock is not None)


def quick_spec(command: str) -> tuple[dict[str, tuple[str, str]], int]:
    """What the quick parser accepts for ``command``: each flag -> (parser kind: ``flag``, ``value``,
    ``multi``; the parameter's name), and how many positional arguments (any number: a large one)."""
    spec: dict[str, tuple[str, str]] = {}
    positionals = 0
    for option in options(command):
        if not option.quick:
            continue
        if option.kind == "argument":
            positionals += 1
        elif option.kind == "arguments":
            positionals = 1 << 30
        else:
            kind = {"choice": "value", "count": "flag"}.get(option.kind, option.kind)
            spec.update((flag, (kind, option.dest)) for flag in option.flags)
    return spec, positionals


def tool_keys() -> dict[str, str]:
    """The ``[tool.envlock]`` keys that give an option its default, and the option's kind there
    (``multi``: a list of strings, ``flag``: true or false, else a string)."""
    return {o.tool: o.kind for name in COMMANDS for o in options(name) if o.tool is not None}


def flag_of(command: str, dest: str) -> str:
    """The long flag that gives ``dest`` (``extras`` -> ``--extra``)."""
    for option in options(command):
        if option.dest == dest and option.flags:
            return option.flags[-1]
    raise KeyError(dest)
