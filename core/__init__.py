"""Pieces every feature package shares: settings, database, Redis, API keys, the API's plumbing."""
