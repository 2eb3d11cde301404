"""Every default edibot assumes when a plan or a person says nothing, in one place."""

from __future__ import annotations

from datetime import time

SEND_TIME = "09:30"  # local time reminders go out
SEND_CLOCK = time(9, 30)
WORKING_DAYS = "Mon-Fri"
NATION = "england"  # whose bank holidays apply
# The UK nations' bank-holiday calendars, as the `holidays` package names their subdivisions.
NATIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR"}
REMINDER_DAYS = (14, 3, 0)  # days before a deadline that its owners are reminded
WEEKLY_CAP = 2  # reminder messages a person gets in a week, at most; the rest wait for their next batch
DIGEST_TIME = "09:00"  # local time a channel's weekly digest goes out
DIGEST_WEEKDAY = 0  # Monday
STALE_WEEKS = 4  # an open action with no update for this many weeks is stale in a digest
DUE_SOON_DAYS = 14  # a digest's "due in the next 14 days"
