"""The Slack adapter: Slack payloads become command-layer calls, replies become Block Kit (translation
only)."""
