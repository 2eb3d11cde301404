"""Which chat platform a person on both Slack and Teams is reminded on."""

from __future__ import annotations

PLATFORMS = ("slack", "teams")  # the chat platforms a person can be reminded on, Slack first


def reminded_on(
    *, slack_id: str | None, teams_id: str | None, chosen: str | None, last: str | None
) -> str | None:
    """The platform a person's direct messages go to: the only one they are on; of both, the one they chose
    (`/edi reminders on slack|teams`), else the one they last used edibot on, else Slack; None if on
    neither."""
    on = [platform for platform, their_id in zip(PLATFORMS, (slack_id, teams_id), strict=True) if their_id]
    if len(on) <= 1:
        return on[0] if on else None
    return next((wanted for wanted in (chosen, last) if wanted in on), on[0])


def read_platform(text: str) -> str | None:
    """ "slack", "teams" or "last" from what someone typed after `/edi reminders on`; None for anything
    else."""
    word = text.strip().lower()
    return word if word in (*PLATFORMS, "last") else None
