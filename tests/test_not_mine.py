"""Saying “not mine”, as owners and plan admins meet it: only someone an action names, or who answers for one
of its owners, can decline it; saying it twice tells nobody twice; several in one go reach each admin as one
notice; the day's first reaches the admins at once, the rest of the day's in one message the next morning; and
no one can send the admins more than NOT_MINE_PER_DAY of them in a day.

The world is the Northbridge sample plan (NO-1…NO-15) and its people: Amina Khan (HR Manager, Internal Comms)
owns NO-2, NO-6 and NO-9; Sam Patel (People Services) owns NO-7 and NO-10; Ewan Campbell owns NO-12; Priya
Shah (EDI Lead, NO-3) is the only plan admin. It is Monday 3 November 2025, 09:30 in London.
"""

from __future__ import annotations

from datetime import timedelta

from bot.console import FakeClock
from handlers.core import Actor
from storage.db import Database
from storage.rules.bounds import NOT_MINE_PER_DAY
from storage.store import Store
from tests.nudging import NudgeWorld, Received
from tests.transcript import Transcript, nothing_changes


def declined(store: Database, name: str) -> list[str]:
    """The refs `name` has said aren't theirs, as the store keeps them."""
    with store.session() as session:
        directory = Store(session)
        person = directory.person_mentioned(name)
        assert person is not None
        ids = directory.declined_by(person)
        return sorted(action.ref for action in directory.actions_matching() if action.id in ids)


def test_only_someone_an_action_names_or_who_answers_for_its_owner_can_say_it_isnt_theirs(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Ewan Campbell", "/edi notmine NO-6")
        transcript.expect_reply(
            "You can only say “not mine” about an action you answer for: NO-6 is owned by HR Manager, not by "
            "you. I haven't told anyone."
        )
        transcript.expect_no_notices()
        transcript.say("@Priya Shah", "/edi notmine NO-8")  # an admin maps it instead
        transcript.expect_reply("NO-8 is owned by Directors & Managers of Each Department, not by you.")
        transcript.expect_no_notices()
        ewan = Actor(surface="console", name="Ewan Campbell")
        outcome = transcript.layer.press(ewan, "not_mine", "NO-6")  # a card someone else was shown
        assert "NO-6 is owned by HR Manager, not by you." in outcome.reply.plain_text()
        assert not outcome.notices
        transcript.say("@Amina Khan", "/edi notmine NO-2 NO-12")  # one of them not hers: none passed on
        transcript.expect_reply("NO-12 is owned by Digital Services, not by you.")
        transcript.expect_no_notices()
    assert declined(store, "Ewan Campbell") == declined(store, "Amina Khan") == []

    transcript.say("@Priya Shah", '/edi owner NO-11 add "Ewan Campbell"')  # named, though mapped to no role
    transcript.say("@Ewan Campbell", "/edi notmine NO-11")
    transcript.expect_reply("Thanks, I've told the plan admins (Priya Shah) that NO-11 isn't yours.")
    transcript.expect_notice(to="Priya Shah", containing="Ewan Campbell says NO-11 is not theirs.")


def test_saying_not_mine_again_does_not_tell_the_admins_again(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi notmine NO-6")
    transcript.expect_notice(to="Priya Shah", containing="Amina Khan says NO-6 is not theirs.")
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi notmine NO-6")
    transcript.expect_reply("You had already said NO-6 isn't yours; the plan admins have been told.")
    transcript.expect_no_notices()
    assert declined(store, "Amina Khan") == ["NO-6"]


def test_not_mine_about_several_actions_reaches_each_admin_as_one_notice(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Priya Shah", "/edi admins add @Tom Okafor")
    transcript.say("@Amina Khan", "/edi notmine NO-2 NO-6 NO-9")
    transcript.expect_reply(
        "Thanks, I've told the plan admins (Priya Shah, Tom Okafor) that NO-2, NO-6 and NO-9 aren't yours. "
        "I won't remind you about them again unless they map them back to you."
    )
    assert transcript.outcome is not None
    assert sorted(notice.name for notice in transcript.outcome.notices) == ["Priya Shah", "Tom Okafor"]
    transcript.expect_notice(to="Priya Shah", containing="Amina Khan says 3 actions are not theirs")
    for line in (
        "NO-2 · Set EDI objectives for every director — owned by Chief Executive, HR Manager",
        "NO-6 · Review recruitment adverts for inclusive language — owned by HR Manager",
        "NO-9 · Run the staff EDI survey — owned by HR Manager, Internal Comms",
    ):
        transcript.expect_notice(to="Tom Okafor", containing=line)
    assert declined(store, "Amina Khan") == ["NO-2", "NO-6", "NO-9"]


def test_no_one_can_send_the_admins_more_than_ten_not_mines_a_day(
    transcript: Transcript, store: Database
) -> None:
    assert NOT_MINE_PER_DAY == 10
    for number in range(9):
        transcript.say("@Priya Shah", f'/edi add owner:"People Services" Staff network review {number + 1}')
        transcript.expect_reply("Added NO-")
    refs = ["NO-7", "NO-10", *(f"NO-{n}" for n in range(16, 25))]  # Sam's 11 actions
    transcript.say("@Sam Patel", f"/edi notmine {' '.join(refs[:4])}")
    transcript.expect_reply("that NO-7, NO-10, NO-16 and NO-17 aren't yours")
    for ref in refs[4:10]:
        transcript.say("@Sam Patel", f"/edi notmine {ref}")
        transcript.expect_reply(f"that {ref} isn't yours")
    with nothing_changes(store):
        transcript.say("@Sam Patel", f"/edi notmine {refs[10]}")
        transcript.expect_reply(
            "You have said “not mine” about 10 actions today, and I pass on at most 10 a day to the plan "
            "admins, so I haven't passed on NO-24. Tell a plan admin (Priya Shah) directly, or try again "
            "tomorrow. I haven't changed anything."
        )
        transcript.expect_no_notices()
    assert len(declined(store, "Sam Patel")) == 10

    transcript.at("2025-11-04T09:00")
    transcript.say("@Sam Patel", f"/edi notmine {refs[10]}")
    transcript.expect_reply("that NO-24 isn't yours")


def test_an_admin_hears_of_the_days_first_not_mine_at_once_and_of_the_rest_in_one_message_next_morning(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    transcript.say("@Priya Shah", "/edi admins add @Tom Okafor")
    transcript.say("@Amina Khan", "/edi notmine NO-6")
    transcript.expect_reply(
        "Thanks, I've told the plan admins (Priya Shah, Tom Okafor) that NO-6 isn't yours."
    )
    transcript.expect_notice(to="Priya Shah", containing="Amina Khan says NO-6 is not theirs.")

    transcript.at("2025-11-03T11:00")
    transcript.say("@Sam Patel", "/edi notmine NO-7")
    transcript.expect_reply(
        "Thanks, I'll tell the plan admins (Priya Shah, Tom Okafor) that NO-7 isn't yours tomorrow morning, "
        "in one message with the others said today. I won't remind you about it again"
    )
    transcript.expect_no_notices()
    transcript.at("2025-11-03T15:00")
    transcript.say("@Amina Khan", "/edi notmine NO-2 NO-9")
    transcript.expect_reply("that NO-2 and NO-9 aren't yours tomorrow morning")
    transcript.expect_no_notices()
    world = NudgeWorld(store, clock)
    world.run_until("2025-11-03T23:00", every=timedelta(hours=1))
    assert not_mine_notes(world, "Priya Shah") == []  # the day's rest waits for the morning

    world.run_until("2025-11-04T12:00", every=timedelta(hours=1), start="2025-11-04T00:00")

    for admin in ("Priya Shah", "Tom Okafor"):
        [note] = not_mine_notes(world, admin)
        assert note.local().strftime("%a %H:%M") == "Tue 10:00"  # the first round in their working morning
        assert "people have said 3 actions are not theirs" in note.text
        for line in (
            "NO-7 · Publish the gender and ethnicity pay gap reports — owned by People Services; "
            "Sam Patel says it isn't theirs",
            "NO-2 · Set EDI objectives for every director — owned by Chief Executive, HR Manager; "
            "Amina Khan says it isn't theirs",
            "NO-9 · Run the staff EDI survey — owned by HR Manager, Internal Comms; Amina Khan says it isn't "
            "theirs",
        ):
            assert line in note.text
        assert "NO-6" not in note.text  # heard of at once, yesterday
    assert declined(store, "Amina Khan") == ["NO-2", "NO-6", "NO-9"]

    # That note was Tuesday's: a "not mine" later on Tuesday waits for Wednesday's.
    transcript.at("2025-11-04T14:00")
    transcript.say("@Sam Patel", "/edi notmine NO-10")
    transcript.expect_reply("that NO-10 isn't yours tomorrow morning")
    world.run_until("2025-11-05T12:00", every=timedelta(hours=1), start="2025-11-04T15:00")
    notes = not_mine_notes(world, "Priya Shah")
    assert len(notes) == 2 and "NO-10" in notes[1].text and "said 1 action is not theirs" in notes[1].text
    assert notes[1].local().strftime("%a %H:%M") == "Wed 10:00"


def not_mine_notes(world: NudgeWorld, name: str) -> list[Received]:
    """The messages gathering a day's "not mine"s that `name` received."""
    return [received for received in world.inbox(name) if "people have said" in received.text]
