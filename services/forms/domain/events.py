"""Events the forms service publishes (topic `careplan.forms.v1`, keyed by plan id)."""

from shared.events import Topic, declare_topic

FORMS_TOPIC = declare_topic(Topic(name="careplan.forms.v1", partitions=6,
                                  description="Form submissions, results, flags and schedules, keyed by plan id."))
