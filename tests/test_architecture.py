"""The package's shape (docs/design.md): the stages import one way (layers, no cycle), each shared concept
has one owner, modules and functions stay small, and imports sit at the top of a module except on the
start-up paths the benchmark measures."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import envlock

PACKAGE = Path(envlock.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
LARGE_MODULES: set[str] = set()
"""Modules allowed over ``MAX_MODULE_LINES``: none (``runtime/drift.py`` was, until what only a drift found
or a launcher needs moved beside it)."""
LAZY_MODULES = {relative(p) for folder in ("runtime", "cli") for p in (PACKAGE / folder).glob("*.py")}
"""Modules whose functions may import freely: the launch runtime (it imports json or hashlib only
when a check needs them) and the command modules (``envlock --help`` loads each; a command imports its
stage when it runs). Everywhere else an import inside a function says, in a ``lazy:`` comment, which
measured path it keeps light."""


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
    assert found == ["runtime/__init__.py"], found


LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "__init__",
            "errors",
            "validate",
            "regular_file",
            "atomic",
            "tomlshim",
            "cache_dir",
            "memo",
            "code_closure",
            "output_file",
            "runtime",
            "models",
            "option_table",
        }
    ),
    frozenset({"index", "env"}),
    frozenset({"sources"}),
    frozenset({"inputs"}),
    frozenset({"lock"}),
    frozenset({"guard"}),
    frozenset({"resolve"}),
    frozenset({"sync"}),
    frozenset({"quick_sync"}),
    frozenset({"cli"}),
    frozenset({"quick"}),
    frozenset({"__main__"}),
)
"""The stages, bottom to top (docs/design.md, "Layers"): a stage imports only from the layers below it
(inside the base layer, from the base modules, without a cycle)."""


def stage(module: str) -> str:
    """The node of ``envlock.X[.Y...]``: the stage folder ``X``, or the top-level module ``X``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imported(path: Path, tree: ast.AST) -> set[str]:
    """Every envlock module ``path`` imports, at the top, inside functions and under TYPE_CHECKING."""
    own = "envlock." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = own.removesuffix(".__init__") if path.name == "__init__.py" else own.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            # ``from envlock import validate`` imports the module envlock.validate, not envlock itself
            found.update(
                f"{base}.{alias.name}" if base == "envlock" and alias.name != "__version__" else base
                for alias in node.names
            )
    return {name for name in found if name == "envlock" or name.startswith("envlock.")}


def stage_graph() -> dict[str, dict[str, list[str]]]:
    """``{stage: {imported stage: [the module:line... that import it]}}`` over every module of envlock."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in SOURCES:
        source = stage("envlock." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imported(path, tree):
            target = stage(name)
            if target != source:
                graph.setdefault(source, {}).setdefault(target, []).append(relative(path))
        graph.setdefault(source, {})
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_names_the_cycle() -> None:
    graph = {"a": {"b": ["a.py"]}, "b": {"c": ["b.py"]}, "c": {"a": ["c.py"]}, "d": {"a": ["d.py"]}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ["a.py"]}, "b": {}}) is None


def test_the_stage_graph_has_no_cycle() -> None:
    graph = stage_graph()
    cycle = find_cycle(graph)
    where = [
        f"{a} -> {b}: {sorted(set(graph[a][b]))}"
        for a, b in zip(cycle or [], (cycle or [])[1:], strict=False)
    ]
    assert cycle is None, " -> ".join(cycle or []) + "\n" + "\n".join(where)


def test_each_stage_imports_only_the_layers_below() -> None:
    level = {name: index for index, layer in enumerate(LAYERS) for name in layer}
    graph = stage_graph()
    assert set(graph) == set(level), set(graph) ^ set(level)
    upward = [
        f"{source} -> {target}: {sorted(set(modules))}"
        for source, targets in graph.items()
        for target, modules in targets.items()
        if level[target] > level[source] or (level[target] == level[source] and level[source] > 0)
    ]
    assert upward == []
