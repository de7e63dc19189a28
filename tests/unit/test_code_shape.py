"""The codebase keeps its shape: small files and functions outside the tests (issue: one shape for
every service). A newcomer reads a file in one sitting and a function on one screen."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("shared", "services", "launcher", "bench")
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 40


def source_files() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_there_are_source_files_to_check() -> None:
    assert len(source_files()) > 50


def test_no_source_file_is_over_300_lines() -> None:
    too_long = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for p in source_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    ]
    assert too_long == []


def test_no_function_is_over_40_lines() -> None:
    assert [f for p in source_files() for f in long_functions(p)] == []


FORBIDDEN_IN_DOMAIN = (
    "opentelemetry",
    "fastapi",
    "starlette",
    "pymongo",
    "redis",
    "faststream",
    "aiokafka",
    "httpx",
    "shared.observability",
    "shared.web",
    "shared.runtime",
    "shared.bootstrap",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_domain_of_every_service_talks_to_nothing() -> None:
    """`domain/` decides: no I/O, no tracing, no HTTP (issue: one shape for every service)."""
    domain_files = sorted((ROOT / "services").glob("*/domain/**/*.py"))
    assert len(domain_files) > 20
    offending = [
        f"{p.relative_to(ROOT)} imports {m}"
        for p in domain_files
        for m in sorted(imported_modules(p))
        if m.startswith(FORBIDDEN_IN_DOMAIN)
    ]
    assert offending == []
