"""The HTML report: one self-contained page (inline CSS, charts as inline SVG) that prints on A4, reads on a
phone and says everything in words as well as colour.

Every piece of text from the store is escaped here (`html.escape`); the charts' SVG comes from matplotlib,
whose own text it escapes too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from handlers.reports.cells import change_text, due_text, owners_text, standing
from handlers.reports.charts import by_theme_svg, overdue_by_owner_svg, rag_over_time_svg
from storage.digests import BUCKET_NAMES, BUCKETS
from storage.reports import ReportAction, ReportFacts

OWNERS_CHARTED = 15  # owners in the overdue chart; the table under it lists them all

# Badge colours: dark text on a light tint, each pair above 7:1 (WCAG AAA; AA asks 4.5:1).
_CSS = """
:root { --text: #1f2937; --muted: #4b5563; --rule: #d1d5db; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--text); background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--rule); padding-bottom: .2rem;
  break-after: avoid; }
p.meta { color: var(--muted); margin: 0 0 1rem; }
ul.counts { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
ul.counts li { padding: .3rem .7rem; border-radius: .3rem; font-weight: 600; }
.rag { display: inline-block; padding: 0 .4rem; border-radius: .25rem; font-weight: 600;
  white-space: nowrap; }
.rag-red { background: #fee2e2; color: #7f1d1d; }
.rag-amber { background: #fef3c7; color: #78350f; }
.rag-green { background: #dcfce7; color: #14532d; }
.rag-done { background: #dbeafe; color: #1e3a8a; }
.rag-unrated { background: #f3f4f6; color: #374151; }
.overdue { color: #991b1b; font-weight: 600; }
figure { margin: 0 0 1rem; break-inside: avoid; }
figcaption { color: var(--muted); font-size: .9rem; }
svg.chart { width: 100%; height: auto; display: block; }
table { width: 100%; border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .45rem; border-bottom: 1px solid var(--rule);
  overflow-wrap: break-word; hyphens: auto; }
thead th { background: #f3f4f6; border-bottom: 2px solid #9ca3af; }
tbody th { font-weight: 600; white-space: nowrap; }
td.num { text-align: right; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
@media (min-width: 40.01rem), print { table.actions { table-layout: fixed; } }
.note-date { color: var(--muted); font-size: .85em; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  table.stack, table.stack tbody, table.stack tr, table.stack th, table.stack td { display: block;
    width: 100%; }
  table.stack tr { border: 1px solid var(--rule); border-radius: .3rem; margin-bottom: .6rem;
    padding: .3rem; }
  table.stack th, table.stack td { border: 0; padding: .15rem .3rem; white-space: normal; text-align: left;
    overflow-wrap: anywhere; }
  table.stack td:empty { display: none; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  table { font-size: 8.5pt; }
  th, td { padding: .25rem .3rem; }
  .rag { white-space: normal; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
}
"""


def report_html(facts: ReportFacts) -> str:
    """The whole page."""
    scope = f" · theme: {facts.theme}" if facts.theme else ""
    title = f"{facts.plan_name} — progress report, {_day(facts.as_of)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{escape(facts.plan_name)}: progress report</h1>",
        f'<p class="meta">As of {escape(_day(facts.as_of))}{escape(scope)}. '
        f"Changes listed since {escape(_day(facts.since))}.</p>",
        "</header>",
        *_summary(facts),
    ]
    if facts.actions:
        parts += [*_timeline(facts), *_themes(facts), *_overdue(facts)]
    parts += [*_changes(facts), *_action_table(facts), "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _day(moment: datetime) -> str:
    return f"{moment:%-d %B %Y}"


def _badge(bucket: str) -> str:
    return f'<span class="rag rag-{bucket}">{escape(BUCKET_NAMES[bucket])}</span>'


def _summary(facts: ReportFacts) -> list[str]:
    total = len(facts.actions)
    if not total:
        return [
            '<section aria-labelledby="summary">',
            '<h2 id="summary">Summary</h2>',
            f"<p>{escape(facts.plan_name)} had no actions{' in this theme' if facts.theme else ''} on "
            f"{escape(_day(facts.as_of))}.</p>",
            "</section>",
        ]
    items = "".join(
        f'<li class="rag-{bucket}">{escape(BUCKET_NAMES[bucket])}: {facts.counts[bucket]}</li>'
        for bucket in BUCKETS
        if facts.counts[bucket]
    )
    done = facts.counts["done"]
    return [
        '<section aria-labelledby="summary">',
        '<h2 id="summary">Summary</h2>',
        f"<p>{total} action{'s' if total != 1 else ''}: {done} done ({round(100 * done / total)}%), "
        f"{facts.overdue} overdue, {len(facts.changes)} change{'s' if len(facts.changes) != 1 else ''} "
        f"since {escape(_day(facts.since))}.</p>",
        f'<ul class="counts" aria-label="Actions by rating">{items}</ul>',
        "</section>",
    ]


def _counts_words(counts: dict[str, int]) -> str:
    return ", ".join(f"{BUCKET_NAMES[b]} {counts[b]}" for b in BUCKETS if counts.get(b))


def _timeline(facts: ReportFacts) -> list[str]:
    points = [(f"{day:%-d %b}", counts) for day, counts in facts.timeline]
    first, last = facts.timeline[0], facts.timeline[-1]
    description = (
        f"Actions by rating each week from {first[0]:%-d %B %Y} ({_counts_words(first[1])}) to "
        f"{last[0]:%-d %B %Y} ({_counts_words(last[1])})."
    )
    return [
        '<section aria-labelledby="over-time">',
        '<h2 id="over-time">RAG over time</h2>',
        f"<figure>{rag_over_time_svg(points, description=description)}",
        f"<figcaption>{escape(description)} Rebuilt from each action's history.</figcaption></figure>",
        "</section>",
    ]


def _themes(facts: ReportFacts) -> list[str]:
    description = "; ".join(f"{name}: {_counts_words(counts)}" for name, counts in facts.by_theme)
    head = "".join(f'<th scope="col">{escape(BUCKET_NAMES[b])}</th>' for b in BUCKETS)
    rows = [
        f'<tr><th scope="row">{escape(name)}</th>'
        + "".join(f'<td class="num" data-label="{BUCKET_NAMES[b]}">{counts[b]}</td>' for b in BUCKETS)
        + f'<td class="num" data-label="All">{sum(counts.values())}</td></tr>'
        for name, counts in facts.by_theme
    ]
    return [
        '<section aria-labelledby="themes">',
        '<h2 id="themes">Progress by theme</h2>',
        f"<figure>{by_theme_svg(facts.by_theme, description=description)}</figure>",
        '<table class="themes stack">',
        f'<thead><tr><th scope="col">Theme</th>{head}<th scope="col">All</th></tr></thead>',
        f"<tbody>{''.join(rows)}</tbody>",
        "</table>",
        "</section>",
    ]


def _overdue(facts: ReportFacts) -> list[str]:
    heading = ['<section aria-labelledby="overdue">', '<h2 id="overdue">Overdue by owner</h2>']
    if not facts.overdue_by_owner:
        return [*heading, f"<p>Nothing was overdue on {escape(_day(facts.as_of))}.</p>", "</section>"]
    counted = [(owner, len(found)) for owner, found in facts.overdue_by_owner]
    charted = counted[:OWNERS_CHARTED]
    description = "; ".join(f"{owner}: {count}" for owner, count in charted)
    if len(counted) > OWNERS_CHARTED:
        description += f"; and {len(counted) - OWNERS_CHARTED} more owners, listed in the table below"
    rows = [
        f'<tr><th scope="row">{escape(owner)}</th><td class="num" data-label="Overdue">{len(found)}</td>'
        f'<td data-label="Actions">{escape(_overdue_refs(found))}</td></tr>'
        for owner, found in facts.overdue_by_owner
    ]
    return [
        *heading,
        f"<p>{facts.overdue} action{'s are' if facts.overdue != 1 else ' is'} overdue; an action with two "
        "owners counts for each.</p>",
        f"<figure>{overdue_by_owner_svg(charted, description=description)}</figure>",
        '<table class="owners stack">',
        '<thead><tr><th scope="col">Owner</th><th scope="col">Overdue</th>'
        '<th scope="col">Actions (days overdue)</th></tr></thead>',
        f"<tbody>{''.join(rows)}</tbody>",
        "</table>",
        "</section>",
    ]


def _overdue_refs(found: Sequence[ReportAction]) -> str:
    return ", ".join(f"{action.ref} ({action.overdue_days}d)" for action in found)


def _changes(facts: ReportFacts) -> list[str]:
    heading = [
        '<section aria-labelledby="changes">',
        f'<h2 id="changes">What changed since {escape(_day(facts.since))}</h2>',
    ]
    if not facts.changes:
        return [*heading, "<p>Nothing changed in that time.</p>", "</section>"]
    rows = [
        "<tr>"
        f'<td data-label="When">{escape(f"{change.at:%-d %b %Y}")}</td>'
        f'<th scope="row">{escape(change.ref)}</th>'
        f'<td data-label="Action">{escape(change.title)}</td>'
        f'<td data-label="Change">{escape(change_text(change))}</td>'
        f'<td data-label="By">{escape(change.actor)}</td>'
        f'<td data-label="Note">{escape(change.note or "")}</td>'
        "</tr>"
        for change in facts.changes
    ]
    return [
        *heading,
        '<table class="changes stack">',
        "<thead><tr>"
        + "".join(
            f'<th scope="col">{name}</th>' for name in ("When", "Ref", "Action", "Change", "By", "Note")
        )
        + "</tr></thead>",
        f"<tbody>{''.join(rows)}</tbody>",
        "</table>",
        "</section>",
    ]


def _action_table(facts: ReportFacts) -> list[str]:
    heading = ['<section aria-labelledby="actions">', '<h2 id="actions">Actions</h2>']
    if not facts.actions:
        return [*heading, "<p>None.</p>", "</section>"]
    themed = any(action.theme for action in facts.actions)
    columns = ["Ref", "Action", *(["Theme"] if themed else []), "Owners", "Deadline", "Rating", "Latest note"]
    return [
        *heading,
        '<table class="actions stack">',
        "<thead><tr>"
        + "".join(f'<th scope="col" style="width: {_WIDTHS[name]}">{name}</th>' for name in columns)
        + "</tr></thead>",
        "<tbody>",
        *_action_rows(facts.actions, themed=themed),
        "</tbody>",
        "</table>",
        "</section>",
    ]


# The action table's columns on a desk and on paper: the action and its note get the room (a phone stacks
# each row as a card instead, and ignores these).
_WIDTHS = {
    "Ref": "8%",
    "Action": "25%",
    "Theme": "13%",
    "Owners": "12%",
    "Deadline": "12%",
    "Rating": "11%",
    "Latest note": "19%",
}


def _action_rows(actions: Sequence[ReportAction], *, themed: bool) -> Iterable[str]:
    for action in actions:
        deadline = escape(action.deadline_text or "No date")
        if action.due_date and action.deadline_text and due_text(action) not in action.deadline_text:
            deadline += f' <span class="note-date">(due {escape(due_text(action))})</span>'
        late = standing(action)
        if late:
            deadline += f'<br><span class="overdue">{escape(late)}</span>'
        note = escape(action.note or "")
        note += f' <span class="note-date">updated {escape(f"{action.updated_at:%-d %b %Y}")}</span>'
        theme = f'<td data-label="Theme">{escape(action.theme or "")}</td>' if themed else ""
        yield (
            f'<tr><th scope="row">{escape(action.ref)}</th>'
            f'<td data-label="Action">{escape(action.title)}</td>{theme}'
            f'<td data-label="Owners">{escape(owners_text(action) or "No owner")}</td>'
            f'<td data-label="Deadline">{deadline}</td>'
            f'<td data-label="Rating">{_badge(action.bucket)}</td>'
            f'<td data-label="Latest note">{note}</td></tr>'
        )
