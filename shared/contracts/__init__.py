"""The published language of the platform: one module per publishing service with its topics, its
event types (`ce_type`) and their payload models. Publishers raise these events; consumers subscribe by
these names and read the payloads with these models (pydantic ignores fields a reader does not
know: readers are tolerant of additions; a breaking change is a new `.vN` type)."""
