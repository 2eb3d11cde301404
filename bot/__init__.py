"""The platforms (console, Slack, Teams), configuration and the `edibot` command line."""
