"""The Slack listeners, one module a surface; each exposes register(app, bot) and bot/slack/app.py calls them
in order."""
