"""The package's shape (docs/design.md): each shared concept has one owner, modules and functions stay
small, and imports sit at the top of a module except on the start-up paths the benchmark measures."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import envlock

PACKAGE = Path(envlock.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
LARGE_MODULES = {"guard/stamp.py"}
"""The stdlib-only runtime copied next to launchers as one file."""
LAZY_MODULES = {"guard/stamp.py"} | {f"cli/{p.name}" for p in (PACKAGE / "cli").glob("*.py")}
"""Modules whose functions may import freely: the launch runtime (it imports json or hashlib only
when a check needs them) and the command modules (``envlock --help`` loads each; a command imports its
stage when it runs). Everywhere else an import inside a function says, in a ``lazy:`` comment, which
measured path it keeps light."""


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_module_is_too_large() -> None:
    large = {
        relative(path): lines
        for path in SOURCES
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert set(large) <= LARGE_MODULES, large


def test_no_function_is_too_long() -> None:
    long = [
        f"{relative(path)}:{node.lineno} {node.name} ({length} lines)"
        for path in SOURCES
        for node in functions(ast.parse(path.read_text(encoding="utf-8")))
        if (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []


def _says_why(lines: list[str], lineno: int) -> bool:
    """A ``lazy:`` comment on the import's line or in the comments and imports right above it."""
    if "lazy:" in lines[lineno - 1]:
        return True
    for line in reversed(lines[: lineno - 1]):
        text = line.strip()
        if text.startswith("#") and "lazy:" in text:
            return True
        if not (text.startswith(("#", "from ", "import ")) or text == ""):
            return False
    return False


def test_imports_inside_functions_say_which_start_up_path_they_keep_light() -> None:
    unexplained = []
    for path in SOURCES:
        if relative(path) in LAZY_MODULES:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in functions(ast.parse(text)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and not _says_why(lines, inner.lineno):
                    unexplained.append(f"{relative(path)}:{inner.lineno}: {lines[inner.lineno - 1].strip()}")
    assert unexplained == []


OWNED = {
    # a concept every stage uses -> the pattern of its one definition
    "the state-folder name": r"STATE_DIR\s*=",
    "the journal name": r"JOURNAL_NAME\s*=",
    "the stash name": r"STASH_NAME\s*=",
    "the sibling-venv prefix": r"def sibling_prefix\(",
    "the venv-python rule": r"def venv_python\(",
    "the atomic writer": r"def write_atomic\(",
    "fsync of a folder": r"def fsync_dir\(",
    "sha256 of a file": r"def sha256_file\(",
    "the all-packages word of --only-binary": r'ALL\s*=\s*":all:"',
}


def test_each_shared_concept_is_defined_once() -> None:
    for concept, pattern in OWNED.items():
        found = [
            f"{relative(path)}:{number}"
            for path in SOURCES
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.match(pattern, line)
        ]
        assert len(found) == 1, (concept, found)


def test_one_tomllib_switch_outside_the_launch_runtime() -> None:
    switches = [
        relative(path)
        for path in SOURCES
        if re.search(r"^\s*import tomli\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    # the launch runtime's lock header reader imports nothing of envlock: it has its own
    assert sorted(switches) in (["runtime/lock_header.py", "tomlshim.py"], ["tomlshim.py"]), switches


def test_the_state_folder_is_named_by_its_owner_only() -> None:
    literal = re.compile(r"""["']\.envlock["']""")
    found = [relative(p) for p in SOURCES if literal.search(p.read_text(encoding="utf-8"))]
    assert found == ["guard/stamp.py"], found
