"""Scheduled jobs (nudge sweep, delivery outbox, digests, calendar posts), started explicitly by `edibot
run`."""
