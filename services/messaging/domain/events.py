"""Events the messaging service publishes (topic `careplan.messaging.v1`, keyed by plan id)."""

from shared.events import Topic, declare_topic

MESSAGING_TOPIC = declare_topic(Topic(name="careplan.messaging.v1", partitions=6,
                                      description="Messages, reads and reply-SLA events, keyed by plan id."))
