"""Dev-mode and test launcher: embedded real servers, the six services, demo data, the `careplan` CLI."""
