"""The import graph of `live/`, read from the code (ast), for the layering test and for
people: `python -m tests.support.imports` prints which part imports which.

Imports under `if TYPE_CHECKING:` are left out: they name a type for the checker and run
nothing, so they make no cycle at run time.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "live"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(tree: ast.Module) -> set[int]:
    """Line numbers of the imports under `if TYPE_CHECKING:`."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    lines.add(inner.lineno)
    return lines


def imports_of(path: Path) -> set[str]:
    """The modules `path` imports when it runs (absolute names, `from x import y` as x
    or x.y when y is a module of ours)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if _ours(candidate):
                    found.add(candidate)
    return found


def _ours(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    """Each module of `live/` -> the modules of `live/` and the libraries it imports."""
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def part_of(module: str) -> str:
    """The part a module belongs to: `live.web.studio` -> `web`, `live.model` -> `model`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def parts_graph() -> dict[str, set[str]]:
    """Part -> the other parts of `live/` it imports."""
    out: dict[str, set[str]] = defaultdict(set)
    for module, names in graph().items():
        for name in names:
            if name.startswith("live.") and part_of(name) != part_of(module):
                out[part_of(module)].add(part_of(name))
        out.setdefault(part_of(module), set())
    return dict(out)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> None:
    parts = parts_graph()
    for part in sorted(parts):
        print(f"{part:14} -> {', '.join(sorted(parts[part])) or '-'}")
    modules = {m: {n for n in names if n.startswith("live.")} for m, names in graph().items()}
    print("module cycles:", cycles(modules) or "none")


if __name__ == "__main__":
    main()
