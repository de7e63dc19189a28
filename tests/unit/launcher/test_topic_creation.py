"""The topic registry's replication, min.insync.replicas, retention and cleanup policy reach both the
launcher's topic creation and the generated Strimzi KafkaTopics; one broker keeps one replica."""

from __future__ import annotations

import pytest

from launcher.catalogue import all_topics
from launcher.k8s import kafka_topic
from launcher.topics import new_topic
from shared.contracts.notifications import WORK_TOPIC
from shared.messaging.events import Topic
from shared.messaging.naming import Namespace

DECLARED = Topic(
    name="careplan.example.v1", partitions=9, compacted=True, retention_ms=1234, replicas=5, min_insync_replicas=3
)


def test_a_declared_topic_reaches_the_launcher_and_the_kafka_topic_alike() -> None:
    request, resource = new_topic(DECLARED, single_broker=False), kafka_topic(DECLARED)
    assert (request.name, request.num_partitions, request.replication_factor) == ("careplan.example.v1", 9, 5)
    assert request.topic_configs == {"cleanup.policy": "compact", "min.insync.replicas": "3", "retention.ms": "1234"}
    spec = resource["spec"]
    assert (spec["topicName"], spec["partitions"], spec["replicas"]) == ("careplan.example.v1", 9, 5)
    assert spec["config"] == {"cleanup.policy": "compact", "min.insync.replicas": 3, "retention.ms": 1234}


@pytest.mark.parametrize("topic", all_topics(), ids=lambda t: t.name)
def test_every_registry_topic_is_created_as_its_kafka_topic_says(topic: Topic) -> None:
    request, spec = new_topic(topic, single_broker=False), kafka_topic(topic)["spec"]
    assert request.name == spec["topicName"] == topic.name
    assert request.num_partitions == spec["partitions"] == topic.partitions
    assert request.replication_factor == spec["replicas"] >= 3
    assert request.topic_configs == {name: str(value) for name, value in spec["config"].items()}


def test_a_single_broker_keeps_one_replica_and_everything_else() -> None:
    request = new_topic(DECLARED, single_broker=True)
    assert request.replication_factor == 1
    assert request.topic_configs == {"cleanup.policy": "compact", "min.insync.replicas": "1", "retention.ms": "1234"}


def test_the_work_topic_with_personal_data_keeps_it_for_days_not_the_cluster_default() -> None:
    config = kafka_topic(WORK_TOPIC)["spec"]["config"]
    assert config["retention.ms"] == 3 * 24 * 3600 * 1000
    assert config["cleanup.policy"] == "delete"


def test_a_namespace_prefixes_the_created_topic_but_never_the_resource() -> None:
    assert new_topic(DECLARED, single_broker=True, namespace=Namespace("t1_")).name == "t1_careplan.example.v1"
    assert kafka_topic(DECLARED)["spec"]["topicName"] == "careplan.example.v1"


def test_more_insync_replicas_than_replicas_is_refused() -> None:
    with pytest.raises(ValueError, match="min_insync_replicas 4 > replicas 3"):
        new_topic(Topic(name="x", replicas=3, min_insync_replicas=4), single_broker=False)
