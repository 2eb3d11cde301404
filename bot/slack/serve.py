"""Serving the Slack app: HTTP for production (Bolt's ASGI adapter under uvicorn), Socket Mode for development."""

from __future__ import annotations

import logging

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"  # commands, buttons, modals and events all arrive here (as in manifest.yml)


def asgi_app(app: App) -> SlackRequestHandler:
    """The ASGI application: /slack/events, plus /slack/install and /slack/oauth_redirect when OAuth is on."""
    return SlackRequestHandler(app, path=EVENTS_PATH)


def uvicorn_server(app: App, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the app (tests and benchmarks start it in a thread; serve_http runs it)."""
    config = uvicorn.Config(asgi_app(app), host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off")  # fmt: skip
    return uvicorn.Server(config)


def serve_http(app: App, *, host: str, port: int) -> None:
    """Blocks serving Slack's requests on http://host:port/slack/events until interrupted."""
    log.info("edibot is listening for Slack on http://%s:%d%s", host, port, EVENTS_PATH)
    uvicorn_server(app, host=host, port=port).run()


def socket_handler(app: App, *, app_token: str, api_url: str) -> SocketModeHandler:
    """Socket Mode for the app: apps.connections.open (with the app-level token) at `api_url`, then a WebSocket."""
    return SocketModeHandler(app, app_token=app_token, web_client=WebClient(base_url=api_url))


def serve_socket(app: App, *, app_token: str, api_url: str) -> None:
    """Blocks, taking Slack's requests over a Socket Mode WebSocket: no public URL needed."""
    socket_handler(app, app_token=app_token, api_url=api_url).start()  # type: ignore[no-untyped-call]
