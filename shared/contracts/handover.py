"""Events the handover service publishes (topic `careplan.handover.v1`, keyed by plan id)."""

from shared.messaging.events import Topic, declare_topic

HANDOVER_TOPIC = declare_topic(
    Topic(
        name="careplan.handover.v1",
        partitions=6,
        description="Handover requested/accepted/declined/completed, keyed by plan id.",
    )
)
