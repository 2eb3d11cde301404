"""The formats a progress report is made in, on their own so that `edibot report --help` can name them
without loading the report builders (the database, charts and workbooks)."""

from __future__ import annotations

from typing import Final, Literal

ReportFormat = Literal["html", "xlsx", "csv", "md"]
FORMATS: Final[tuple[ReportFormat, ...]] = ("html", "xlsx", "csv", "md")
