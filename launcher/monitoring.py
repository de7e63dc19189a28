"""What the monitoring manifests refer to (`deploy/k8s/base/monitoring`): the metric names in the
alerting rules and the dashboard, the runbook anchors of the alerts, and the span attributes the
Collector's tail sampling keys on; and the metric names a service's `/metrics` exposes, to check that
every rule and panel queries something that exists."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from launcher.k8s import DEPLOY_DIR

MONITORING_DIR = DEPLOY_DIR / "base" / "monitoring"
OPERATIONS_DOC = DEPLOY_DIR.parent.parent / "docs" / "operations.md"
_METRIC = re.compile(r"\b(careplan_[a-z0-9_]+)\b")
_SELECTED = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")  # a name followed by a selector or a range
_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def _load(name: str) -> Any:
    return yaml.safe_load((MONITORING_DIR / name).read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of the PrometheusRule."""
    return [rule for group in _load("prometheusrule.yaml")["spec"]["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    """Every query of the Grafana dashboard's panels."""
    dashboard = json.loads((MONITORING_DIR / "grafana-dashboard.json").read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def expressions() -> list[str]:
    """The queries of every alert and every panel."""
    return [str(rule["expr"]) for rule in alert_rules()] + dashboard_expressions()


def referenced_metrics(exprs: list[str]) -> set[str]:
    """The metric names the queries read."""
    return {name for expr in exprs for name in _METRIC.findall(expr)}


def foreign_metrics(exprs: list[str]) -> set[str]:
    """Names queried that are not the platform's own (only `careplan_*` metrics are checked against the
    services, so a query on anything else would go unchecked)."""
    selected = {name for expr in exprs for name in _SELECTED.findall(expr)}
    return {name for name in selected if not name.startswith("careplan_") and name not in _PROMQL_WORDS}


def exposed_metrics(exposition: str) -> set[str]:
    """The sample names a Prometheus text exposition offers (a histogram's `_bucket`, `_sum`, `_count`,
    a labelled metric with no series yet by its TYPE line)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind in ("histogram", "summary"):
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def runbook_anchors() -> set[str]:
    """The anchors of docs/operations.md's headings, as GitHub makes them."""
    anchors = set()
    for line in OPERATIONS_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return anchors


def sampling_attributes() -> dict[str, set[str]]:
    """Span attribute → the values the Collector's tail sampling keeps traces for."""
    config = _load("otel-collector.yaml")
    found: dict[str, set[str]] = {}

    def visit(policy: dict[str, Any]) -> None:
        if policy.get("type") == "string_attribute":
            attribute = policy["string_attribute"]
            found.setdefault(attribute["key"], set()).update(attribute["values"])
        for sub in policy.get("and", {}).get("and_sub_policy", []):
            visit(sub)

    for policy in config["processors"]["tail_sampling"]["policies"]:
        visit(policy)
    return found
