"""The rules a rendered overlay must keep beyond its schemas; each check returns one line per problem,
naming the resource.

- pods meet the "restricted" Pod Security Standard, plus this project's read-only root filesystem, /tmp
  emptyDir, probes and resources;
- secrets: outside dev and test, every service takes AUDIT_PEPPER (and with SASL its Kafka user and
  password) from its Secret; no ConfigMap holds a secret; no dev pepper in a non-dev overlay;
- every service has a PodDisruptionBudget and exactly one autoscaler whose target exists.
Network flows and Kafka resources: `launcher.k8s_flows`.
"""

from __future__ import annotations

import base64
import contextlib
from typing import Any

from launcher.k8s_render import describe

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
ALLOWED_VOLUMES = {"configMap", "emptyDir", "secret", "projected", "downwardAPI", "persistentVolumeClaim", "csi"}
DEV_ENVIRONMENTS = {"dev", "test"}
DEV_PEPPER = "careplan-dev-pepper"
SECRET_WORDS = ("PASSWORD", "PEPPER", "SECRET", "TOKEN", "MONGODB_URI", "REDIS_URL", "PRIVATE")


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a workload."""
    return dict(doc.get("spec", {}).get("template", {}).get("spec", {}))


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc.get("kind") in WORKLOADS]


def _container_pss(name: str, container: dict[str, Any], pod: dict[str, Any]) -> list[str]:
    """Restricted PSS for one container (pod-level settings count where the container does not say)."""
    context = container.get("securityContext") or {}
    pod_context = pod.get("securityContext") or {}
    problems = []
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{name}: securityContext.allowPrivilegeEscalation must be false")
    if "ALL" not in (context.get("capabilities") or {}).get("drop", []):
        problems.append(f"{name}: securityContext.capabilities.drop must include ALL")
    if set((context.get("capabilities") or {}).get("add", [])) - {"NET_BIND_SERVICE"}:
        problems.append(f"{name}: securityContext.capabilities.add may only hold NET_BIND_SERVICE")
    if context.get("privileged"):
        problems.append(f"{name}: securityContext.privileged must not be true")
    if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
        problems.append(f"{name}: runAsNonRoot must be true (container or pod securityContext)")
    if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
        problems.append(f"{name}: runAsUser must not be 0")
    seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
    if seccomp not in {"RuntimeDefault", "Localhost"}:
        problems.append(f"{name}: seccompProfile.type must be RuntimeDefault or Localhost (got {seccomp})")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{name}: securityContext.readOnlyRootFilesystem must be true")
    if any(port.get("hostPort") for port in container.get("ports", [])):
        problems.append(f"{name}: hostPort is not allowed")
    return problems


def _pod_pss(pod: dict[str, Any]) -> list[str]:
    problems = [f"spec.{key} must not be true" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if kinds - ALLOWED_VOLUMES:
            problems.append(f"volume {volume.get('name')}: type {sorted(kinds)} is not allowed")
    emptydirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in pod.get("containers", []):
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        if mounts.get("/tmp") not in emptydirs:
            problems.append(f"container {container['name']}: /tmp must be an emptyDir (the root fs is read-only)")
    return problems


def _container_operations(name: str, container: dict[str, Any]) -> list[str]:
    """Probes and resources every service container needs."""
    problems = []
    for probe, path in (("startupProbe", "/livez"), ("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        got = ((container.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            problems.append(f"{name}: {probe} must GET {path} (got {got})")
    resources = container.get("resources") or {}
    for needed in ("requests.cpu", "requests.memory", "limits.memory"):
        section, _, key = needed.partition(".")
        if key not in (resources.get(section) or {}):
            problems.append(f"{name}: resources.{needed} is missing")
    return problems


def restricted_problems(docs: list[dict[str, Any]]) -> list[str]:
    """The restricted Pod Security Standard and the project's pod rules, per workload."""
    problems = []
    for doc in workloads(docs):
        pod = pod_spec(doc)
        found = _pod_pss(pod)
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            name = f"container {container.get('name')}"
            found += _container_pss(name, container, pod) + _container_operations(name, container)
        problems += [f"{describe(doc)}: {problem}" for problem in found]
    return problems


def config_maps(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """ConfigMap name → data (names are unique within this platform's namespace)."""
    return {d["metadata"]["name"]: dict(d.get("data") or {}) for d in docs if d.get("kind") == "ConfigMap"}


def container_environment(container: dict[str, Any], maps: dict[str, dict[str, str]]) -> dict[str, str]:
    """The literal environment a container gets from its ConfigMaps and `env` values (not from Secrets)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= maps.get(source["configMapRef"]["name"], {})
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
    return env


def _required_secret_key(container: dict[str, Any], variable: str) -> bool:
    for entry in container.get("env", []):
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if entry.get("name") == variable and ref and ref.get("key") and not ref.get("optional", False):
            return True
    return False


def secret_values(doc: dict[str, Any]) -> list[str]:
    """A Secret's values as text (`data` is base64)."""
    values = [str(v) for v in (doc.get("stringData") or {}).values()]
    for value in (doc.get("data") or {}).values():
        with contextlib.suppress(ValueError):
            values.append(base64.b64decode(str(value)).decode("utf-8", "replace"))
    return values


def required_secrets(environment: dict[str, str]) -> list[str]:
    """The secrets a production container must take from its Secret: the pepper, and the Kafka user's
    password when the platform speaks SASL (key material the service refuses to start without)."""
    required = ["AUDIT_PEPPER"]
    if environment.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").startswith("SASL_"):
        required += ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"]
    return required


def secret_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Outside dev/test, AUDIT_PEPPER must come from a required Secret key; secrets never in ConfigMaps."""
    maps = config_maps(docs)
    problems = [
        f"ConfigMap {name}: {key} looks like a secret: put it in the service's Secret"
        for name, data in maps.items()
        for key in data
        if any(word in key.upper() for word in SECRET_WORDS)
    ]
    environments = set()
    for doc in workloads(docs):
        for container in pod_spec(doc).get("containers", []):
            environment = container_environment(container, maps).get("CAREPLAN_ENV", "prod")
            environments.add(environment)
            if environment in DEV_ENVIRONMENTS:
                continue
            problems += [
                f"{describe(doc)}: CAREPLAN_ENV={environment} needs {name} from the service's Secret "
                f"(env {name} with valueFrom.secretKeyRef, not optional)"
                for name in required_secrets(container_environment(container, maps))
                if not _required_secret_key(container, name)
            ]
    if environments - DEV_ENVIRONMENTS:
        problems += [
            f"{describe(doc)}: holds the dev AUDIT_PEPPER in a non-dev overlay"
            for doc in docs
            if doc.get("kind") == "Secret" and DEV_PEPPER in secret_values(doc)
        ]
    return problems


def _targets(docs: list[dict[str, Any]], kind: str) -> dict[str, str]:
    """Scale target (namespace/name) → the autoscaler's description, for HPAs or ScaledObjects."""
    return {
        f"{d['metadata'].get('namespace', '')}/{d['spec']['scaleTargetRef']['name']}": describe(d)
        for d in docs
        if d.get("kind") == kind
    }


def availability_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Every Deployment: a PodDisruptionBudget selecting it, and exactly one autoscaler (HPA or KEDA)."""
    problems = []
    hpas, scaled = _targets(docs, "HorizontalPodAutoscaler"), _targets(docs, "ScaledObject")
    deployments = {f"{d['metadata'].get('namespace', '')}/{d['metadata']['name']}": d for d in workloads(docs)}
    for key, autoscaler in {**hpas, **scaled}.items():
        if key not in deployments:
            problems.append(f"{autoscaler}: scales {key}, which is not in the overlay")
    for key, doc in deployments.items():
        labels = doc["spec"]["template"]["metadata"].get("labels", {})
        budgets = [
            d
            for d in docs
            if d.get("kind") == "PodDisruptionBudget"
            and d["metadata"].get("namespace") == doc["metadata"].get("namespace")
            and (d["spec"].get("selector", {}).get("matchLabels") or {None: None}).items() <= labels.items()
        ]
        if not budgets:
            problems.append(f"{describe(doc)}: no PodDisruptionBudget selects its pods")
        if (key in hpas) + (key in scaled) != 1:
            problems.append(f"{describe(doc)}: needs exactly one autoscaler (HorizontalPodAutoscaler or ScaledObject)")
    return problems
