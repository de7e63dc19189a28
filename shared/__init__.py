"""Platform mechanisms every service uses: settings, events, outbox/inbox, timers, telemetry, auth, audit."""
