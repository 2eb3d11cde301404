"""`/edi calendar` in the console: what is coming up, channels subscribing, the organisation's own dates,
hidden entries and wording, and a person's hold during an observance they keep; each refusal changing nothing.

The world is the Northbridge sample plan and its people (Priya Shah is the only plan admin; Amina Khan owns
NO-2, NO-6 and NO-9). It is Monday 3 November 2025, 09:30 in London.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import CalendarSubscription, ObservanceHold, ObservanceSetting, OrganisationObservance
from storage.observances import upcoming_observances
from tests.transcript import Transcript, nothing_changes


def calendar_state(store: Database) -> dict[str, Any]:
    with store.session() as session:
        return {
            "subscriptions": [
                (s.channel, s.categories, s.lead_days, s.working_days_only)
                for s in session.scalars(select(CalendarSubscription))
            ],
            "own": [
                (o.key, o.rule, o.category, o.tone) for o in session.scalars(select(OrganisationObservance))
            ],
            "settings": [
                (s.key, s.hidden, s.wording, s.suggestions)
                for s in session.scalars(select(ObservanceSetting))
            ],
            "holds": [(h.person_id, h.key) for h in session.scalars(select(ObservanceHold))],
        }


@contextmanager
def calendar_unchanged(store: Database) -> Iterator[None]:
    before = calendar_state(store)
    with nothing_changes(store):
        yield
    assert calendar_state(store) == before


def test_anyone_sees_the_observances_of_the_next_30_days(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi calendar")
    transcript.expect_reply(
        "Observances in the next 30 days",
        "Guru Nanak Gurpurab — on or around Wednesday 5 November 2025 (faith, celebration)",
        "Remembrance Sunday — on Sunday 9 November 2025 (commemoration, commemoration)",
        "UK Disability History Month — from 14 November to 20 December 2025",
        "Transgender Day of Remembrance — on Thursday 20 November 2025",
        "International Day of Persons with Disabilities — on Wednesday 3 December 2025",
    )
    transcript.expect_reply_not("Black History Month", "Hanukkah")
    lines = [line for line in transcript.reply.splitlines() if line.lstrip().startswith("•")]
    assert lines[0].lstrip().startswith("• Guru Nanak Gurpurab")  # soonest first

    transcript.at("2025-10-15T09:00")
    transcript.say("@Amina Khan", "/edi calendar")
    transcript.expect_reply("Black History Month — now, until Friday 31 October")


def test_an_admin_subscribes_a_channel_to_some_categories_with_its_own_lead_time(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(
        "@Priya Shah", "/edi calendar subscribe #edi-network faith,commemoration lead 14,0 working-days"
    )
    transcript.expect_reply(
        "#edi-network now hears of observances (commemoration, faith) 14 days before and on the day, "
        "on working days only"
    )
    transcript.say("@Priya Shah", "/edi calendar subscribe <#C0123|all-staff>")
    transcript.expect_reply(
        "#all-staff now hears of observances (every category) 7 days before and on the day"
    )
    transcript.say("@Priya Shah", "/edi calendar channels")
    transcript.expect_reply(
        "#edi-network — commemoration, faith, 14 days before and on the day, working days only"
    )
    assert calendar_state(store)["subscriptions"] == [
        ("edi-network", ["commemoration", "faith"], [14, 0], True),
        ("C0123", [], [7, 0], False),
    ]
    transcript.say("@Priya Shah", "/edi calendar unsubscribe #edi-network")
    transcript.expect_reply("#edi-network no longer hears of observances.")


def test_a_subscription_with_an_unknown_category_or_lead_time_is_refused_and_changes_nothing(
    transcript: Transcript, store: Database
) -> None:
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", "/edi calendar subscribe #edi-network sport")
    transcript.expect_reply("'sport' is not a calendar category. Categories: faith, heritage, awareness")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", "/edi calendar subscribe #edi-network lead soon")
    transcript.expect_reply("'soon' should be days before, e.g. `lead 7,0`")
    with calendar_unchanged(store):
        transcript.say("@Amina Khan", "/edi calendar subscribe #edi-network")
    transcript.expect_reply("Only a plan admin can use `/edi calendar subscribe`.")


def test_an_admin_adds_the_organisations_own_dates_and_bad_ones_get_a_clear_reply(
    transcript: Transcript, store: Database
) -> None:
    transcript.say(
        "@Priya Shah",
        '/edi calendar add "Northbridge Founders Day" "12 November" heritage "The day our council was '
        'chartered." https://northbridge.example/history',
    )
    transcript.expect_reply("Added Northbridge Founders Day (heritage, celebration): 12 November.")
    transcript.say(
        "@Priya Shah",
        '/edi calendar add "Staff Network Remembrance" "FREQ=YEARLY;BYMONTH=11;BYDAY=3TH" commemoration '
        "commemoration",
    )
    transcript.expect_reply("Added Staff Network Remembrance (commemoration, commemoration)")
    transcript.say("@Amina Khan", "/edi calendar")
    transcript.expect_reply(
        "Northbridge Founders Day — on Wednesday 12 November 2025 (heritage, celebration)",
        "Staff Network Remembrance — on Thursday 20 November 2025",
    )

    with calendar_unchanged(store):
        transcript.say("@Priya Shah", '/edi calendar add "Games Day" "1 June" sport')
    transcript.expect_reply("'sport' is not a calendar category.")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", '/edi calendar add "Games Day" "FREQ=YEARLY;BYDAY=9XX" awareness')
    transcript.expect_reply("'FREQ=YEARLY;BYDAY=9XX' is not a valid RRULE")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", '/edi calendar add "Games Day" "FREQ=MONTHLY;BYDAY=1MO" awareness')
    transcript.expect_reply("must repeat yearly (FREQ=YEARLY)")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", '/edi calendar add "Games Day" "sometime soon" awareness')
    transcript.expect_reply("'sometime soon' is not a date I can repeat")
    with calendar_unchanged(store):
        transcript.say(
            "@Priya Shah",
            '/edi calendar add "Memorial" "3 March" commemoration commemoration "Happy memorial!"',
        )
    transcript.expect_reply("'Happy' celebrates, and this is a commemoration")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", '/edi calendar add "Diwali" "1 November" faith')
    transcript.expect_reply("The calendar already has Diwali.")


def test_an_admin_hides_an_entry_and_rewords_another_in_a_fitting_tone(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Priya Shah", "/edi calendar hide international men's day")
    transcript.expect_reply("International Men's Day is hidden")
    transcript.say("@Amina Khan", "/edi calendar")
    transcript.expect_reply_not("International Men's Day")

    transcript.say(
        "@Priya Shah",
        '/edi calendar wording "Remembrance Sunday" '
        '"Northbridge staff join the two minutes\' silence at 11am."',
    )
    transcript.expect_reply("Posts about Remembrance Sunday now say: Northbridge staff join")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", '/edi calendar wording "Holocaust Memorial Day" "Happy HMD everyone!"')
    transcript.expect_reply("'Happy' celebrates, and this is a commemoration")
    transcript.say("@Priya Shah", '/edi calendar suggest "Remembrance Sunday" "Poppies at reception"')
    transcript.expect_reply("Posts about Remembrance Sunday now suggest: Poppies at reception")
    with calendar_unchanged(store):
        transcript.say("@Priya Shah", "/edi calendar hide Festivus")
    transcript.expect_reply("There is no observance called 'Festivus' in the calendar.")

    transcript.say("@Priya Shah", "/edi calendar show international men's day")
    transcript.expect_reply("International Men's Day is back in the calendar.")


def test_a_person_holds_their_non_urgent_reminders_during_an_observance_they_keep(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi calendar hold ramadan")
    transcript.expect_reply("During Ramadan your non-urgent reminders wait until it ends")
    transcript.say("@Amina Khan", "/edi calendar hold Yom Kippur")
    transcript.say("@Amina Khan", "/edi calendar holds")
    transcript.expect_reply("Your non-urgent reminders wait during: Ramadan, Yom Kippur.")
    transcript.say("@Amina Khan", "/edi calendar unhold yom kippur")
    transcript.expect_reply("Your reminders go out as usual during Yom Kippur.")
    with calendar_unchanged(store):
        transcript.say("@Amina Khan", "/edi calendar hold Ramadam")
    transcript.expect_reply("There is no observance called 'Ramadam' in the calendar.")


def test_a_weeks_upcoming_observances_for_a_digest_leave_out_what_the_organisation_hid(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Priya Shah", "/edi calendar hide remembrance sunday")
    with store.session() as session:
        week = upcoming_observances(session, today=date(2025, 11, 3))
    assert [(d.observance.name, d.occurrence.start) for d in week] == [
        ("Guru Nanak Gurpurab", date(2025, 11, 5)),
        ("Inter Faith Week", date(2025, 11, 9)),
    ]


def test_a_date_stored_under_an_older_rule_grammar_is_left_out_not_fatal(
    transcript: Transcript, store: Database
) -> None:
    with store.session() as session:  # as an older edibot, which allowed INTERVAL, may have stored it
        session.add(
            OrganisationObservance(
                key="biennial-conference",
                name="Biennial Conference",
                category="organisation",
                tone="celebration",
                rule="FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYMONTHDAY=20",
                description="",
                created_at=transcript.clock.now(),
            )
        )
    transcript.say("@Amina Khan", "/edi calendar")
    transcript.expect_reply("Transgender Day of Remembrance — on Thursday 20 November 2025")
    transcript.expect_reply_not("Biennial Conference")
