"""The import graph: no cycles, imports inside functions included, and data flowing down the
stages (base → model → engine → proof → notes → render → cli → the package's top)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "derive"
# Each subpackage's rank: a module may import only modules of its own rank or lower.
RANKS = {"base": 0, "model": 1, "engine": 2, "proof": 3, "notes": 4, "render": 5, "cli": 6, "top": 7}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    parts = module.split(".")
    if module == "derive" or module == "derive.__main__":
        return "top"
    return parts[1] if len(parts) > 2 or parts[1] in RANKS else "base"


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs: all but the bodies of ``if TYPE_CHECKING:`` (type hints only)."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


def imports(path: Path) -> set[str]:
    """Every derive module ``path`` imports when it runs, at the top or inside a function."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("derive")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("derive"):
                continue
            for alias in node.names:  # ``from . import rules`` imports the module derive.model.rules
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
    return {name for name in found if name != module}


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    return {module_name(p): {i for i in imports(p) if _is_module(i) or i == "derive"} for p in PACKAGE.rglob("*.py")}


def test_the_scanner_sees_imports_inside_functions(tmp_path: Path) -> None:
    code = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..render import report\n"
        "def f():\n    from ..proof import prover\n    import derive.cli\n"
    )
    path = PACKAGE / "model" / "_probe_only_in_this_test.py"
    path.write_text(code, encoding="utf-8")
    try:
        assert imports(path) == {"derive.proof.prover", "derive.cli"}
    finally:
        path.unlink()


def test_no_import_cycles() -> None:
    edges = graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(trail[trail.index(nxt):] + [node, nxt]) if nxt in trail else f"{node} → {nxt}")
            elif nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_data_flows_down_the_stages() -> None:
    upward = [
        f"{module} ({stage(module)}) imports {target} ({stage(target)})"
        for module, targets in graph().items()
        for target in targets
        if RANKS[stage(target)] > RANKS[stage(module)]
    ]
    assert upward == []
