# ruff: noqa: PTH109, PTH113, PTH117, PTH118, PTH119, PTH120
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""Runs a launcher's Python program in the interpreter that checked the venv: one start instead of two.

Copied next to the launchers as ``_envlock_run.py`` beside the checker; like it, standard library only,
Python 3.8 syntax at run time, nothing of envlock imported. A POSIX launcher execs the venv's python as
``python -c RUN HERE CHECK-ARGS... -- COMMAND...`` (``RUN``: ``launchers.RUN_CODE``), which imports the
checker and this module from HERE and calls ``launch(main)``. The check refuses a drifted venv before
any of the program's code runs; then COMMAND runs as if the launcher had exec'd it:

- ``python FILE ARGS``, ``python -m MODULE ARGS``, ``python -c CODE ARGS`` (``python3`` too), and a
  console script whose ``#!`` line names this interpreter, run here with the ``sys.argv``, ``sys.path``,
  ``__main__``, exit status and traceback the venv's python gives them when started directly;
- anything else, or a file Python cannot compile, is exec'd as the launcher would have (the venv's
  scripts folder is first on PATH), so its errors are Python's own.

The launcher starts python without ``-I``/``-S`` on purpose: ``sys.flags`` is what the program sees (and
what ``multiprocessing`` passes on to its children), and site, ``.pth`` files and ``PYTHON*`` variables
must act as they do for ``.venv/bin/python FILE``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import CodeType, FrameType, TracebackType
    from typing import Any, NoReturn

PYTHONS = ("python", "python3")
"""Command names that mean the venv's interpreter (a POSIX venv has both)."""
MAIN_KEYS = (
    "__name__",
    "__doc__",
    "__package__",
    "__loader__",
    "__spec__",
    "__annotations__",
    "__builtins__",
)
"""What ``__main__`` holds before a program's code runs (``-c``), in the interpreter's order."""


def launch(check: Callable[[Sequence[str]], int]) -> None:
    """Check the venv (``check``: the checker's ``main``), then run the command of ``sys.argv``."""
    here = sys.path.pop(0)  # RUN put the launcher's folder first to import the checker and this module
    sys.path_importer_cache.pop(here, None)
    args = sys.argv[2:]
    split = args.index("--")
    status = check(args[:split])
    if status:
        raise SystemExit(status)
    command = args[split + 1 :]
    for name in ("_envlock_check", "_envlock_run"):
        sys.modules.pop(name, None)
    program = plan(command)
    if program is None:
        execute(command)
    mode, target, argv, sys.executable = program
    try:
        if mode == "module":
            _run_module(target, argv)
        else:
            _run_source(mode, target, argv, command, os.path.join(here, "__pycache__", "programs"))
    except SystemExit:
        raise
    except BaseException:
        # reported by the program's excepthook (if it set one), as if python had run the program
        sys.excepthook = _hiding_launcher_frames(sys.excepthook, sys._getframe(1))
        raise


def plan(command: Sequence[str]) -> tuple[str, str, list[str], str] | None:
    """``(mode, target, sys.argv, sys.executable)`` to run ``command`` here (mode ``file``, ``module`` or
    ``code``), or None when it is to be exec'd."""
    if not command:
        return None
    name, rest = command[0], list(command[1:])
    if name in PYTHONS:
        if len(rest) >= 2 and rest[0] in ("-m", "-c"):
            mode = "module" if rest[0] == "-m" else "code"
            return mode, rest[1], [rest[0], *rest[2:]], sys.executable
        if rest and not rest[0].startswith("-"):
            return "file", rest[0], rest, sys.executable
        return None  # interpreter options, stdin or the REPL: Python itself handles them
    if os.sep in name or (os.altsep and os.altsep in name):
        return None
    script = _on_path(name)
    interpreter = None if script is None else _interpreter_of(script)
    if script is None or interpreter is None:
        return None
    return "file", script, [script, *rest], interpreter


def _on_path(name: str) -> str | None:
    """Where exec would find ``name``: the first executable file of that name on PATH."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _interpreter_of(script: str) -> str | None:
    """The interpreter ``script``'s ``#!`` line names, if it is this one (a console script of this venv):
    as the kernel passes it, it is the program's ``sys.executable``."""
    try:
        with open(script, "rb") as handle:
            line = handle.readline(4096)
    except OSError:
        return None
    interpreter = line[2:].strip().decode("utf-8", "replace")
    if not line.startswith(b"#!") or not interpreter or " " in interpreter:
        return None
    executable = sys.executable
    if os.path.basename(interpreter) != os.path.basename(executable) or os.path.realpath(
        os.path.dirname(interpreter)
    ) != os.path.realpath(os.path.dirname(executable)):
        return None
    return interpreter


def execute(command: Sequence[str]) -> NoReturn:
    """Replace this process with ``command`` (looked up on PATH), as the launcher's ``exec`` would."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # no exec on Windows: run it as a child and hand its exit status on
        import subprocess  # lazy: the exec fallback only

        raise SystemExit(subprocess.call(list(command)))
    try:
        os.execvp(command[0], list(command))
    except OSError as error:
        sys.stderr.write(f"{command[0]}: {error.strerror}\n")
        raise SystemExit(127 if isinstance(error, FileNotFoundError) else 126) from None


def _prepare(argv: list[str], path0: str) -> dict[str, Any]:
    """What python sets up before a program's first line: ``sys.argv``, the program's folder (or cwd)
    first on sys.path, the bytecode flag as the user set it; returns ``__main__``'s namespace, RUN's
    names removed."""
    namespace: dict[str, Any] = sys.modules["__main__"].__dict__
    kept = {key: namespace[key] for key in MAIN_KEYS if key in namespace}
    namespace.clear()
    namespace.update(kept)
    sys.argv[:] = argv
    if not getattr(sys.flags, "safe_path", False):  # -P / PYTHONSAFEPATH (3.11+): nothing put first
        sys.path.insert(0, path0)
    sys.dont_write_bytecode = bool(sys.flags.dont_write_bytecode)  # RUN cached the checker's bytecode
    return namespace


def _run_source(mode: str, target: str, argv: list[str], command: Sequence[str], cache: str) -> None:
    """``python FILE`` / ``python -c CODE``: compiled as python compiles them, run in ``__main__``."""
    loader = None
    try:
        if mode == "file":
            filename = target
            if sys.version_info >= (3, 9) and not os.path.isabs(filename):
                filename = os.path.join(os.getcwd(), filename)  # as python >= 3.9 sets __main__.__file__
            loader = _source_loader(filename)
            code = _cached_code(loader, cache)
            path0 = os.path.dirname(os.path.realpath(target))
        else:
            code = compile(target, "<string>", "exec", dont_inherit=True)
            path0 = ""
            # python >= 3.13 keeps -c source for tracebacks (linecache is loaded then: RUN is -c code)
            register = getattr(sys.modules.get("linecache"), "_register_code", None)
            if register is not None:
                register("<string>", target, "<string>")  # keyed as 3.13 keys it: by name
    except (OSError, ImportError, SyntaxError, ValueError):
        execute(command)  # missing, a folder, a zip app, a .pyc, bad syntax: python says what it says
    namespace = _prepare(argv, path0)
    if loader is not None:
        namespace["__loader__"] = loader
        namespace["__file__"] = filename
        namespace["__cached__"] = None
    exec(code, namespace)  # the launcher's command, as python would run it


def _source_loader(filename: str) -> Any:
    """The loader python gives ``__main__`` for a script."""
    bootstrap = sys.modules.get("_frozen_importlib_external")  # CPython's, loaded at start
    if bootstrap is not None and hasattr(bootstrap, "SourceFileLoader"):
        return bootstrap.SourceFileLoader("__main__", filename)
    from importlib.machinery import SourceFileLoader  # lazy: only where the bootstrap is not CPython's

    return SourceFileLoader("__main__", filename)


def _cached_code(loader: Any, cache: str) -> CodeType:
    """The script's code, its bytecode kept under ``cache`` (the launcher's ``__pycache__``) and checked
    against the script's mtime and size as for any import. Python caches no script of its own, but
    compiling one here costs milliseconds more than when python starts it (the ``ast`` types that
    ``compile()`` sets up), which a launcher would pay at every start."""
    saved = sys.pycache_prefix
    sys.pycache_prefix = cache
    try:
        code: CodeType = loader.get_code("__main__")
    finally:
        sys.pycache_prefix = saved
    return code


def _run_module(module: str, argv: list[str]) -> None:
    """``python -m MODULE``: what the interpreter itself calls, with the cwd first on sys.path."""
    import runpy  # lazy: only -m needs it (python -m imports it too)

    _prepare(argv, os.getcwd())
    run_as_main = getattr(runpy, "_run_module_as_main", None)  # what `python -m` runs (3.8-3.14)
    if run_as_main is None:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        run_as_main(module)


def _hiding_launcher_frames(hook: Callable[..., Any], run_frame: FrameType) -> Callable[..., Any]:
    """An excepthook that reports the program's uncaught exception as Python would for the program
    started directly: without RUN's frame and this module's above the program's own."""

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if tb is not None and tb.tb_frame is run_frame:
            tb = tb.tb_next
            while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
                tb = tb.tb_next
            value = value.with_traceback(tb)
        hook(kind, value, tb)

    return excepthook
