"""The habits that keep the code readable at a glance: no module of the three packages over 400
lines (migrations and the sample generator aside), no function over 60 lines. The layer contract
(import-linter) and ruff run in ``make test`` before this suite."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "connectors", "schemas")
MODULE_MAX, FUNCTION_MAX = 400, 60
EXEMPT = ("connectors/state/migrations/", "flows/samples/")


def modules() -> list[Path]:
    found = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in found if not str(p.relative_to(ROOT)).startswith(EXEMPT)]


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_MAX}
    assert long == {}, f"modules over {MODULE_MAX} lines (each wants one job; split it): {long}"


def test_no_function_is_over_60_lines():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if (n := node.end_lineno - first + 1) > FUNCTION_MAX:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = n
    assert long == {}, f"functions over {FUNCTION_MAX} lines: {long}"
