"""The AsyncAPI document: valid AsyncAPI 3.0.0, every `$ref` resolves, send and receive operations derived
from the code (contracts and the services' consumer declarations), and the committed copy is current.

tests/schemas/asyncapi-3.0.0.json is `schemas/3.0.0-without-$id.json` of the npm package
`@asyncapi/specs` 6.11.1 (Apache-2.0, https://github.com/asyncapi/spec-json-schemas), unchanged:
the bundle with local references only, so it validates offline.
sha256 abe96881dbfaad495ccbb6bd8d3fb43ca18a13b9d7564849ccb66f39d5e5b20f.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.exceptions import best_match

from launcher.asyncapi import asyncapi_document, channel, channel_id, message_name
from launcher.consumer_groups import ConsumerGroup, consumer_groups, declared_groups
from shared.bootstrap import ServiceSpec
from shared.contracts import plans as plans_contract
from shared.contracts import retention as retention_contract
from shared.messaging.consumer import EventConsumer, Subscription
from shared.messaging.events import EVENT_TYPES, Topic
from shared.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "asyncapi-3.0.0.json").read_text())

NOT_YET_DECLARED: dict[str, str] = {}
"""Event types a consumer subscribes to that no contract declares yet (checked as soon as one does)."""


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(json.dumps(asyncapi_document()))  # as written to docs/asyncapi.json


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Each error at the deepest path that explains it (not just "not valid under any of the given schemas")."""
    validator = jsonschema.Draft7Validator(SCHEMA)
    errors = (best_match([error]) for error in validator.iter_errors(doc))
    return sorted(f"{error.json_path}: {error.message[:300]}" for error in errors)


def refs(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Every (where, `$ref` value) in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path, value
            else:
                yield from refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from refs(item, f"{path}[{i}]")


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """The target of a local JSON pointer (`#/a/b`), or KeyError."""
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node: Any = doc
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert schema_errors(document) == []


def test_the_vendored_schema_catches_a_broken_document(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    operation = next(iter(broken["operations"].values()))
    operation["action"] = "publish"  # AsyncAPI 2 vocabulary
    del broken["info"]["version"]
    broken["channels"]["careplan_plans_v1"]["bindings"]["kafka"]["partitions"] = 0
    broken["components"]["messages"]["plan_started_v1"]["payload"] = {"type": 5}
    assert schema_errors(broken) == [
        "$.channels.careplan_plans_v1.bindings.kafka.partitions: 0 is less than the minimum of 1",
        "$.components.messages.plan_started_v1.payload.type: 5 is not valid under any of the given schemas",
        "$.info: 'version' is a required property",
        f"$.operations['{next(iter(broken['operations']))}'].action: 'publish' is not one of ['send', 'receive']",
    ]


def test_every_ref_resolves_and_no_defs_are_left_inside(document: dict[str, Any]) -> None:
    dangling = []
    for where, ref in refs(document):
        try:
            resolve(document, ref)
        except (KeyError, TypeError, AssertionError):
            dangling.append(f"{where} -> {ref}")
    assert dangling == []
    assert "$defs" not in json.dumps(document)


def test_nested_models_are_shared_component_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    batch = resolve(
        document, document["components"]["messages"]["notifications_announcement_batch_v1"]["payload"]["$ref"]
    )
    sealed_or_plain = batch["properties"]["recipients"]["anyOf"]  # personal: a SealedValue on the wire
    assert sealed_or_plain[1]["items"] == {"$ref": "#/components/schemas/FanoutRecipient"}
    assert "FanoutRecipient" in schemas
    assert {"FormsPurgeReceipt", "PlansPurgeReceipt", "RetentionPurgeReceipt"} <= schemas.keys()


def test_every_event_type_is_a_message_with_its_payload(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    for ce_type, event in EVENT_TYPES.items():
        message = messages[message_name(ce_type)]
        assert message["name"] == ce_type
        payload = resolve(document, message["payload"]["$ref"])
        assert set(payload["properties"]) == set(event.model_fields), ce_type
        assert message_name(ce_type) in document["channels"][channel_id(event.topic.name)]["messages"]


def test_operations_point_to_messages_of_their_own_channel(document: dict[str, Any]) -> None:
    for name, operation in document["operations"].items():
        channel_ref = operation["channel"]["$ref"]
        assert operation["messages"], name
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel_ref}/messages/"), name


def test_publishers_send_what_their_contract_module_declares(document: dict[str, Any]) -> None:
    operations = document["operations"]
    plans = operations["plans.send.careplan_plans_v1"]
    assert plans["action"] == "send"
    assert {"$ref": f"#/channels/careplan_plans_v1/messages/{message_name(plans_contract.PlanStarted.ce_type)}"} in (
        plans["messages"]
    )
    requested = message_name(retention_contract.PurgeRequested.ce_type)
    assert any(requested in m["$ref"] for m in operations["retention.send.careplan_retention_v1"]["messages"])
    for service in ("plans", "messaging", "forms", "notifications", "retention", "handover"):
        sent_by_service = [
            message["$ref"]
            for name, operation in operations.items()
            if name.startswith(f"{service}.send.")
            for message in operation["messages"]
        ]
        assert any(ref.endswith(f"/messages/{service}_purge_receipt_v1") for ref in sent_by_service), service


def received_by(document: dict[str, Any], group: str) -> set[str]:
    return {
        message["$ref"]
        for operation in document["operations"].values()
        if operation["action"] == "receive" and operation["bindings"]["kafka"]["groupId"]["enum"] == [group]
        for message in operation["messages"]
    }


def test_every_subscription_of_every_consumer_group_is_a_receive_operation(document: dict[str, Any]) -> None:
    groups = consumer_groups()
    assert {"messaging.plan-events", "forms.plan-events", "notifications.triggers", "plans.flags"} <= {
        g.name for g in groups
    }
    missing = []
    for group in groups:
        received = received_by(document, group.name)
        for ce_type in group.ce_types:
            event = EVENT_TYPES.get(ce_type)
            if event is None:
                if ce_type not in NOT_YET_DECLARED:
                    missing.append(f"{group.name}: {ce_type} is declared by no contract")
            elif event.topic.name not in group.topics:
                missing.append(f"{group.name}: {ce_type} is on {event.topic.name}, which the group does not read")
            elif f"#/channels/{channel_id(event.topic.name)}/messages/{message_name(ce_type)}" not in received:
                missing.append(f"{group.name}: no receive operation for {ce_type}")
    assert missing == []


def test_receive_operations_name_the_consumer_group_and_service(document: dict[str, Any]) -> None:
    operation = document["operations"]["notifications.triggers.receive.careplan_retention_v1"]
    assert operation["action"] == "receive"
    assert operation["channel"] == {"$ref": "#/channels/careplan_retention_v1"}
    assert operation["bindings"]["kafka"]["groupId"]["enum"] == ["notifications.triggers"]
    assert operation["bindings"]["kafka"]["clientId"]["enum"] == ["notifications"]


def test_consumer_groups_are_read_whatever_the_handlers_are_called() -> None:
    settings_read = []

    def consumers(runtime: Runtime, service: Any) -> list[EventConsumer]:
        settings_read.append(runtime.settings.outbox_poll_seconds)
        projector = service.some.nested.projector_factory(runtime.db["plan_ownership"])
        return [
            EventConsumer(
                "demo.plan-events",
                [plans_contract.PLANS_TOPIC.name],
                [
                    Subscription(plans_contract.PlanStarted.ce_type, plans_contract.PlanStarted, projector.anything),
                    Subscription(plans_contract.PlanEnded.ce_type, plans_contract.PlanEnded, service.whatever_name),
                    *service.more.subscriptions(),  # a stand-in collection is empty, not endless
                ],
                runtime.uow,
                runtime.broker,
            )
        ]

    spec = ServiceSpec(title="demo", description="demo", build=lambda _: None, consumers=consumers)
    assert declared_groups("demo", spec) == [
        ConsumerGroup(
            "demo",
            "demo.plan-events",
            ("careplan.plans.v1",),
            (plans_contract.PlanStarted.ce_type, plans_contract.PlanEnded.ce_type),
        )
    ]
    assert settings_read == [0.5]  # the settings' real default, not a stand-in


def test_a_consumers_function_that_needs_servers_is_named() -> None:
    def consumers(runtime: Runtime, _: Any) -> list[EventConsumer]:
        raise ConnectionError("tried to connect")

    spec = ServiceSpec(title="demo", description="demo", build=lambda _: None, consumers=consumers)
    with pytest.raises(RuntimeError, match="cannot read the consumers of demo without servers"):
        declared_groups("demo", spec)


def test_servers_production_is_secure_kafka_with_a_bootstrap_variable(document: dict[str, Any]) -> None:
    production, development = document["servers"]["production"], document["servers"]["development"]
    assert production["protocol"] == "kafka-secure"
    assert production["host"] == "{bootstrap}" and "default" in production["variables"]["bootstrap"]
    assert development["protocol"] == "kafka" and development["host"].startswith("localhost:")
    assert document["defaultContentType"] == "application/json"
    assert document["info"]["title"] and document["info"]["version"]


def test_channel_bindings_carry_partitions_and_cleanup_policy(document: dict[str, Any]) -> None:
    plans = document["channels"]["careplan_plans_v1"]["bindings"]["kafka"]
    assert plans["partitions"] == plans_contract.PLANS_TOPIC.partitions
    assert plans["topicConfiguration"]["cleanup.policy"] == ["delete"]
    compacted = channel(Topic(name="careplan.state.v1", partitions=3, compacted=True), [])["bindings"]["kafka"]
    assert compacted["topicConfiguration"] == {"cleanup.policy": ["compact"]}


def test_channel_bindings_carry_retention_and_replicas_once_a_topic_declares_them() -> None:
    class RetainedTopic(Topic):
        retention_ms: int | None = None
        replicas: int | None = None

    kafka = channel(RetainedTopic(name="careplan.x.v1", retention_ms=604_800_000, replicas=3), [])["bindings"]["kafka"]
    assert kafka["replicas"] == 3
    assert kafka["topicConfiguration"] == {"cleanup.policy": ["delete"], "retention.ms": 604_800_000}


def test_committed_asyncapi_document_is_current(document: dict[str, Any]) -> None:
    committed = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    assert committed == document, "stale: run `careplan asyncapi -o docs/asyncapi.json`"
