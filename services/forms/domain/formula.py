"""A safe arithmetic language for scoring formulas, e.g. `minutes_asleep / minutes_in_bed * 100`.

The text is parsed with Python's `ast` and only numbers, question ids, + - * /, parentheses, unary
minus and the functions min, max, abs and round are accepted; nothing is ever `eval`-ed.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {"min": min, "max": max, "abs": abs, "round": round}


class FormulaError(ValueError):
    """The formula is not in the language, or cannot be computed for these answers."""


def parse(text: str) -> ast.Expression:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise FormulaError(f"formula {text!r} is not valid arithmetic") from None
    for node in ast.walk(tree):
        allowed = isinstance(
            node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Name, ast.Load, ast.Call, *_BINARY)
        )
        if isinstance(node, ast.Constant):
            allowed = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        if isinstance(node, ast.Call):
            allowed = isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords
        if not allowed:
            raise FormulaError(f"formula {text!r} uses {type(node).__name__}, which is not allowed")
    return tree


def names(text: str) -> set[str]:
    """The question ids a formula reads."""
    tree = parse(text)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - called


def evaluate(text: str, values: dict[str, float]) -> float:
    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise FormulaError(f"no answer for {node.id!r}")
            return float(values[node.id])
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise FormulaError("division by zero")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return float(_FUNCTIONS[node.func.id](*(walk(a) for a in node.args)))
        raise FormulaError(f"unexpected {type(node).__name__}")

    result = walk(parse(text))
    if not math.isfinite(result):
        raise FormulaError("the result is not a finite number")
    return result
