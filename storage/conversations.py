"""Where edibot's Teams messages to a person go (their 1:1 conversation), and which reminder a chat reply
follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, TeamsConversation

# Between a conversation id and an activity id in a Teams post's platform message id: neither contains it.
TEAMS_MESSAGE_SEPARATOR = "|"


@dataclass(frozen=True)
class Conversation:
    """A 1:1 chat as the Bot Connector knows it."""

    id: str
    service_url: str
    tenant_id: str | None


def remember_conversation(
    session: Session, aad_object_id: str, conversation: Conversation, *, at: datetime
) -> bool:
    """Keeps (or updates) a person's 1:1 chat; True if it was new or had moved."""
    kept = session.get(TeamsConversation, aad_object_id)
    if kept is None:
        session.add(
            TeamsConversation(
                aad_object_id=aad_object_id,
                conversation_id=conversation.id,
                service_url=conversation.service_url,
                tenant_id=conversation.tenant_id,
                updated_at=at,
            )
        )
        return True
    if (kept.conversation_id, kept.service_url) == (conversation.id, conversation.service_url):
        return False
    kept.conversation_id, kept.service_url = conversation.id, conversation.service_url
    kept.tenant_id = conversation.tenant_id or kept.tenant_id
    kept.updated_at = at
    return True


def forget_conversation(session: Session, aad_object_id: str, conversation_id: str) -> None:
    """Forgets a chat Teams no longer takes posts in (the app was removed), unless it has moved since."""
    kept = session.get(TeamsConversation, aad_object_id)
    if kept is not None and kept.conversation_id == conversation_id:
        session.delete(kept)


def conversation_with(session: Session, aad_object_id: str) -> Conversation | None:
    kept = session.get(TeamsConversation, aad_object_id)
    if kept is None:
        return None
    return Conversation(kept.conversation_id, kept.service_url, kept.tenant_id)


def latest_post_in(session: Session, conversation_id: str) -> str | None:
    """The platform id of the last outbox message posted in a Teams conversation (a reminder, a notice)."""
    prefix = conversation_id + TEAMS_MESSAGE_SEPARATOR
    return session.scalar(
        select(OutboxMessage.platform_message_id)
        .where(
            OutboxMessage.status == "sent",
            OutboxMessage.platform_message_id.startswith(prefix, autoescape=True),
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
