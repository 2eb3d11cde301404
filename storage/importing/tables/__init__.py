"""Reads the actions out of a plan's rows: finds headers, carries groups down, repairs slips, reports the
rest.

`finding` locates each table's header row and settles what its columns hold, `grouping` keeps the
headings and grouping cells that apply to a row, `repair` joins rows split by a page break and puts
back cells that slid sideways, and `actions` walks the rows and turns them into actions and problems.
"""

from __future__ import annotations

from storage.importing.tables.actions import interpret_document
from storage.importing.tables.parsed import ParsedAction, ParsedPlan, Problem

__all__ = ["ParsedAction", "ParsedPlan", "Problem", "interpret_document"]
