"""The same plan saved as Word, Excel, CSV or PDF imports as the same actions as its text extract."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.importing.readers import read_plan_file
from storage.importing.tables import ParsedAction, interpret_document
from tests.builders import write_pdf
from tests.plan_convert import essentials, essentials_without_prose, layout_of, pdf_table, reimported

PUBLISHED = ("000_49adc85312dfb21c.txt", "002_59fe58fd6413823e.txt", "004_212e6a28a5cd78fa.txt")
KESTREL_MOOR = Path(__file__).parent / "fixtures" / "kestrel_moor_equality_improvement_plan.txt"


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
@pytest.mark.parametrize("name", PUBLISHED)
def test_a_published_plan_saved_as_word_or_excel_imports_the_same_actions(
    shared_plans: Path, tmp_path: Path, name: str, fmt: str
) -> None:
    # Word and Excel carry everything the extract does: prose above the tables, headings merged
    # across them, grouping cells merged down over their actions, and struck-through runs.
    document = read_plan_file(shared_plans / name)
    expected = [essentials(action) for action in interpret_document(document).actions]

    plan = reimported(document, fmt=fmt, folder=tmp_path)

    assert [essentials(action) for action in plan.actions] == expected


@pytest.mark.parametrize("name", PUBLISHED)
def test_a_published_plan_saved_as_csv_imports_the_same_actions(
    shared_plans: Path, tmp_path: Path, name: str
) -> None:
    document = read_plan_file(shared_plans / name)
    # A CSV holds the table rows only: section headings written as prose between the tables
    # (all of Local Trust's themes) have nowhere to go, so they are left out of the comparison.
    # Headings written as rows of the table (Maidstone's, B&NES's) are still compared.
    expected = [essentials_without_prose(a, document) for a in interpret_document(document).actions]

    plan = reimported(document, fmt="csv", folder=tmp_path)

    assert [essentials_without_prose(action, document) for action in plan.actions] == expected


def test_a_small_plan_printed_to_pdf_imports_the_same_actions(tmp_path: Path) -> None:
    document = read_plan_file(KESTREL_MOOR)
    first_section = interpret_document(document).actions[:5]
    assert first_section[-1].title.startswith("Publish our annual equality report")
    path = write_pdf(tmp_path / "kestrel.pdf", pdf_table(layout_of(document), 0), title="Equality Plan")

    pdf = read_plan_file(path)
    plan = interpret_document(pdf)

    assert {row.table for row in pdf.rows if not row.is_prose} == {0}  # pdfplumber found one table
    assert [pdf_essentials(action) for action in plan.actions] == [pdf_essentials(a) for a in first_section]


def pdf_essentials(action: ParsedAction) -> tuple[object, ...]:
    """A PDF keeps no record of where a title's lines were broken by hand and where they wrapped, so
    titles are compared word for word; owners are not, since a line break between owners separates them."""
    title, *rest = essentials(action)
    assert isinstance(title, str)
    return (" ".join(title.split()), *rest)
