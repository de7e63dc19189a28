"""The monitoring manifests hold together: every alert has a runbook that exists, queries only the
platform's own metrics, the Collector keeps traces by attributes the code really sets, and a rule with a
misspelt field fails the offline check naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.k8s_render import render, schema_problems
from launcher.monitoring import alert_rules, expressions, foreign_metrics, runbook_anchors, sampling_attributes
from services.handover.service_layer.requests import HANDOVER_WORKFLOW
from services.messaging.service_layer.sla import SLA_WORKFLOW
from services.notifications.adapters.provider_spans import OUTCOME
from services.notifications.service_layer.announcements import ANNOUNCEMENT_WORKFLOW
from services.retention.service_layer.exports import EXPORT_WORKFLOW
from shared.messaging.events import DEAD_LETTER_TOPIC
from shared.observability.kafka_spans import DESTINATION
from shared.observability.workflow import WORKFLOW_KIND, WORKFLOW_STEP
from shared.purge.participant import PURGE_WORKFLOW
from tests.unit.test_k8s_manifests import overlay_on_prod


def test_every_alert_names_its_severity_and_a_runbook_that_exists() -> None:
    anchors = runbook_anchors()
    rules = alert_rules()
    assert len(rules) >= 10
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page.endswith("docs/operations.md") and anchor in anchors, f"{rule['alert']}: no runbook #{anchor}"


def test_rules_and_panels_query_only_the_platforms_own_metrics() -> None:
    assert foreign_metrics(expressions()) == set()


def test_the_collector_keeps_traces_by_attributes_and_workflow_kinds_the_code_sets() -> None:
    kept = sampling_attributes()
    assert set(kept) <= {WORKFLOW_KIND, WORKFLOW_STEP, OUTCOME, DESTINATION}
    workflows = {SLA_WORKFLOW, PURGE_WORKFLOW, EXPORT_WORKFLOW, HANDOVER_WORKFLOW, ANNOUNCEMENT_WORKFLOW}
    assert kept[WORKFLOW_KIND] == workflows
    assert kept[WORKFLOW_STEP] == {"overdue"}  # the SLA breach
    assert kept[DESTINATION] == {DEAD_LETTER_TOPIC.name}


def test_a_rule_with_a_misspelt_field_fails_the_offline_check_naming_it(tmp_path: Path) -> None:
    broken = overlay_on_prod(
        tmp_path,
        """
        - target: {kind: PrometheusRule, name: careplan}
          patch: |-
            - op: add
              path: /spec/groups/0/rules/0/expresion
              value: "1"
        """,
    )
    problems = schema_problems(render(broken))
    assert any("PrometheusRule careplan/careplan" in p and "expresion" in p for p in problems), problems


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_carries_the_rules_the_scrape_and_the_dashboard(overlay: str) -> None:
    docs = render(Path(__file__).parents[2] / "deploy" / "k8s" / "overlays" / overlay)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("PrometheusRule", "careplan"), ("ServiceMonitor", "careplan")} <= kinds
    assert ("ConfigMap", "careplan-grafana-dashboard") in kinds and ("ConfigMap", "careplan-otel-collector") in kinds
