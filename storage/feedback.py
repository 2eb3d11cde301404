"""Anonymous feedback as named questions and changes: its settings and responders, each piece and its thread,
what waits for release, what is old enough to delete, and the counts by topic and month."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Action, Feedback, FeedbackMessage, FeedbackResponder, FeedbackSettings, Person
from storage.rules.anonymity import new_ref

SETTINGS_ID = 1


def feedback_settings(session: Session) -> FeedbackSettings | None:
    return session.get(FeedbackSettings, SETTINGS_ID)


def settings_or_new(session: Session, *, channel: str, channel_name: str) -> tuple[FeedbackSettings, bool]:
    """The settings row, made with this channel when there is none yet; (row, made now)."""
    found = feedback_settings(session)
    if found is not None:
        return found, False
    made = FeedbackSettings(id=SETTINGS_ID, channel=channel, channel_name=channel_name, release_times=[])
    session.add(made)
    return made, True


def responders(session: Session) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(FeedbackResponder, FeedbackResponder.person_id == Person.id)
            .order_by(Person.name)
        )
    )


def is_responder(session: Session, person: Person) -> bool:
    return session.get(FeedbackResponder, person.id) is not None


def set_responders(session: Session, people: Sequence[Person]) -> None:
    session.execute(delete(FeedbackResponder))
    session.add_all(FeedbackResponder(person_id=person.id) for person in {p.id: p for p in people}.values())


def unused_ref(session: Session) -> str:
    """A random reference no kept feedback has (30 bits: a clash is rare, and simply drawn again)."""
    while True:
        ref = new_ref()
        if session.get(Feedback, ref) is None:
            return ref


def feedback(session: Session, ref: str) -> Feedback | None:
    return session.get(Feedback, ref.upper())


def waiting_for_release(session: Session) -> tuple[list[Feedback], list[FeedbackMessage]]:
    """Feedback never released, and follow-ups not yet released on feedback that was."""
    pieces = list(session.scalars(select(Feedback).where(Feedback.released_on.is_(None))))
    follow_ups = list(
        session.scalars(
            select(FeedbackMessage)
            .join(Feedback, Feedback.ref == FeedbackMessage.feedback_ref)
            .where(
                FeedbackMessage.released.is_(False),
                FeedbackMessage.author == "submitter",
                Feedback.released_on.is_not(None),
            )
        )
    )
    return pieces, follow_ups


def delete_older_than(session: Session, day: date) -> int:
    """Deletes feedback received before `day`, with its threads; how many pieces went."""
    refs = list(session.scalars(select(Feedback.ref).where(Feedback.received_on < day)))
    if refs:
        session.execute(delete(FeedbackMessage).where(FeedbackMessage.feedback_ref.in_(refs)))
        session.execute(delete(Feedback).where(Feedback.ref.in_(refs)))
    return len(refs)


def all_feedback(session: Session) -> list[Feedback]:
    """Every piece kept, by day received then reference (never the order it was written in)."""
    return list(session.scalars(select(Feedback).order_by(Feedback.received_on, Feedback.ref)))


def counts_by(session: Session, what: str) -> Counter[str]:
    """How many pieces by "topic" (no topic: "(none)") or by "month" received ("2025-11")."""
    counted: Counter[str] = Counter()
    for topic, received_on in session.execute(select(Feedback.topic, Feedback.received_on)):
        counted[(topic or "(none)") if what == "topic" else f"{received_on:%Y-%m}"] += 1
    return counted


def themes(session: Session) -> list[str]:
    """The themes the plans' open actions are grouped under: the topics feedback may be about."""
    found = session.scalars(
        select(Action.theme).where(Action.theme.is_not(None), Action.archived.is_(False)).distinct()
    )
    return sorted({theme.strip() for theme in found if theme and theme.strip()}, key=str.casefold)
