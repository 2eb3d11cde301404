"""clean_text: what edibot keeps of what people send it, and what it drops before keeping or echoing it."""

from __future__ import annotations

import pytest

from storage.rules.text import clean_text


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("waiting on\x00 budget", "waiting on budget"),  # PostgreSQL refuses NUL in text
        ("bell\x07 and escape\x1b[31m red", "bell and escape[31m red"),
        ("line one\r\nline two\rline three", "line one\nline two\nline three"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("done \u202etxt.exe", "done txt.exe"),  # right-to-left override
        (
            "\u2066isolated\u2069 \u202aembedded\u202c \u200emarked\u200f \u061carabic mark",
            "isolated embedded marked arabic mark",
        ),
        ("NO\u200b-6", "NO-6"),  # zero-width space
        ("NO\u200d-6 and \u2060word\ufeff joiner", "NO-6 and word joiner"),
        ("\u200cNO-6\u200d", "NO-6"),  # joiners at either end join nothing
        ("a\u200db", "ab"),  # between Latin letters: hides something
        ("é\u200dé", "éé"),
        (
            "done \U0001f469\u200d\U0001f4bb and \U0001f3f3\ufe0f\u200d\U0001f308",
            "done \U0001f469\u200d\U0001f4bb and \U0001f3f3\ufe0f\u200d\U0001f308",
        ),
        (
            "\U0001f44d\U0001f3fd\u200d\u2642\ufe0f",
            "\U0001f44d\U0001f3fd\u200d\u2642\ufe0f",
        ),  # skin tone, then ♂
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian: ZWNJ shapes the word
        ("क्\u200dष", "क्\u200dष"),  # Devanagari half form
        ("Café, naïve, Łódź, 東京, Ünïcödé — “quotes” ✅", "Café, naïve, Łódź, 東京, Ünïcödé — “quotes” ✅"),
    ],
)
def test_clean_text_drops_what_hides_or_breaks_and_keeps_everything_else(sent: str, kept: str) -> None:
    assert clean_text(sent) == kept
    assert clean_text(kept) == kept  # cleaning twice changes nothing more
