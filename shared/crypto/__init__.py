"""Crypto-shredding of personal data on Kafka: the `Personal` field marker, AES-256-GCM envelopes, and
the per-plan keyring whose keys a purge destroys (see `shared.messaging.sealing` for where it is used).

Importing this package imports nothing else: domain models import `shared.crypto.personal` alone."""
