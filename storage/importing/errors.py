"""Errors a plan owner can cause while importing, each with a message written for them."""

from __future__ import annotations


class PlanFileError(Exception):
    """The file cannot be read as a plan at all; nothing was imported.

    The message is one sentence a plan owner understands, naming the file and
    saying what to do instead (e.g. "export it to XLSX").
    """


class ColumnMappingError(PlanFileError):
    """No table in the file has columns we recognise, or a --map option is wrong."""


class WouldArchiveMost(PlanFileError):
    """Importing the file into an existing plan would archive more than half of it: the wrong file, or a plan
    replaced on purpose (then `--replace` says so); nothing was changed."""
