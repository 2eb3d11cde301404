"""How much edibot takes in one input, each bound named once: what is longer or further off is refused in
words."""

from __future__ import annotations

# What one input may carry. A command line or a form field longer than this is refused whole: every argument
# inside it is then bounded too (and SQL LIKE patterns stay far below SQLite's 50,000-byte limit).
COMMAND_LIMIT = 4000  # characters in one command or thread reply
FORM_VALUE_LIMIT = 4000  # characters in one field of a submitted form
BUTTON_VALUE_LIMIT = 2000  # characters in a button's value (Slack's own limit)

# What one argument may be.
NOTE_LIMIT = 1000  # characters in a progress note or a reason (a longer one is cut, and the person told)
TITLE_LIMIT = 500  # characters in an action's title
CHANNEL_NAME_LIMIT = 80  # characters in a channel's name (Slack's own limit)
FILTER_LIMIT = 200  # characters in one `/edi list` filter value (plan:, theme:, owner:)
DEADLINE_LIMIT = (
    100  # characters in a deadline typed in chat (a plan's cell may be longer: MAX_DEADLINE_CHARS)
)
OWNER_NAME_LIMIT = 300  # characters in an owner's name (`/edi owner REF add NAME`)

# How far ahead.
SNOOZE_MOST_MONTHS = 6  # a longer wait is a new due date, not a snooze…
SNOOZE_MOST_WEEKS = 26  # …however it is counted
AWAY_MOST_YEARS = 1  # `/edi away until DATE`: at most a year ahead (until this day next year)

# How often.
NOT_MINE_PER_DAY = 10  # "not mine" notices one person may send the plan admins in a day
