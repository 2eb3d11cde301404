"""The HTML report's charts, drawn by matplotlib as SVG and returned as text to inline in the page.

matplotlib is imported here, lazily, and only when a report with charts is built: it costs a few hundred
milliseconds to import, which neither `edibot --help` nor a chat command that makes no report should pay.
Figures are made without pyplot and saved as SVG, so no display backend (no GUI toolkit) is ever looked
for.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from typing import Any

from storage.digests import BUCKET_NAMES, BUCKETS

# Bar colours with at least 3:1 contrast against the white page (WCAG 1.4.11, graphics); the words beside
# them (legend, labels, tables) carry the meaning too.
COLOURS = {"red": "#c62828", "amber": "#b45309", "green": "#2e7d32", "done": "#1565c0", "unrated": "#6b7280"}
_TEXT = "#1f2937"
_WIDTH_INCHES = 6.5
_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)  # matplotlib's RDF about itself
_SVG_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, read by screen readers
    "svg.hashsalt": "edibot",  # the same report twice is the same file
    "font.family": "sans-serif",
    "font.size": 10,
    "text.color": _TEXT,
    "axes.labelcolor": _TEXT,
    "xtick.color": _TEXT,
    "ytick.color": _TEXT,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(height: float) -> tuple[Any, Any]:
    """A figure and its axes, made without pyplot: pyplot would look for a display backend (and costs more
    to import); a bare Figure draws with the SVG backend when saved as SVG."""
    import matplotlib  # noqa: PLC0415 — lazily: see the module's opening
    from matplotlib.figure import Figure  # noqa: PLC0415

    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(_WIDTH_INCHES, height))
        axes = figure.subplots()
    return figure, axes


def _svg(figure: Any, *, ident: str, title: str, description: str) -> str:
    """The figure as an inline <svg> that scales to its container, named and described for screen readers."""
    import matplotlib  # noqa: PLC0415

    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = _XML_HEAD.sub("", buffer.getvalue(), count=1)
    text = _METADATA.sub("", _SVG_SIZE.sub(r"<svg\1", text, count=1), count=1)
    labelled = (
        f'<svg role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart" '
        f'preserveAspectRatio="xMidYMid meet"'
    )
    text = text.replace("<svg", labelled, 1)
    head_end = text.index(">") + 1
    return (
        text[:head_end]
        + f'<title id="{ident}-title">{html.escape(title)}</title>'
        + f'<desc id="{ident}-desc">{html.escape(description)}</desc>'
        + text[head_end:]
    )


def _stacked_bars(
    labels: Sequence[str],
    counts: Sequence[dict[str, int]],
    *,
    horizontal: bool,
    height: float,
) -> Any:
    figure, axes = _figure(height)
    positions = list(range(len(labels)))
    base = [0] * len(labels)
    for bucket in BUCKETS:
        values = [row.get(bucket, 0) for row in counts]
        if not any(values):
            continue
        colour = COLOURS[bucket]
        if horizontal:
            axes.barh(positions, values, left=base, color=colour, label=BUCKET_NAMES[bucket], height=0.6)
        else:
            axes.bar(positions, values, bottom=base, color=colour, label=BUCKET_NAMES[bucket], width=0.7)
        base = [b + v for b, v in zip(base, values, strict=True)]
    if horizontal:
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()
        axes.set_xlabel("Actions")
    else:
        axes.set_xticks(positions, labels, rotation=0)
        axes.set_ylabel("Actions")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=5, frameon=False)
    return figure


def rag_over_time_svg(points: Sequence[tuple[str, dict[str, int]]], *, description: str) -> str:
    """The plan's RAG counts at each weekly point, as stacked columns."""
    figure = _stacked_bars(
        [label for label, _ in points], [c for _, c in points], horizontal=False, height=3.2
    )
    return _svg(figure, ident="chart-rag", title="RAG ratings over time", description=description)


def by_theme_svg(themes: Sequence[tuple[str, dict[str, int]]], *, description: str) -> str:
    """Each theme's actions by rating, as stacked bars."""
    labels = [_short(name, 38) for name, _ in themes]
    figure = _stacked_bars(labels, [c for _, c in themes], horizontal=True, height=0.9 + 0.42 * len(themes))
    return _svg(figure, ident="chart-themes", title="Progress by theme", description=description)


def overdue_by_owner_svg(owners: Sequence[tuple[str, int]], *, description: str) -> str:
    """How many overdue actions each owner has, most first."""
    figure, axes = _figure(0.7 + 0.36 * len(owners))
    positions = list(range(len(owners)))
    axes.barh(positions, [count for _, count in owners], color=COLOURS["red"], height=0.6)
    axes.set_yticks(positions, [_short(name, 38) for name, _ in owners])
    axes.invert_yaxis()
    axes.set_xlabel("Overdue actions")
    axes.xaxis.get_major_locator().set_params(integer=True)
    for position, (_, count) in enumerate(owners):
        axes.annotate(str(count), (count, position), xytext=(3, 0), textcoords="offset points", va="center")
    return _svg(figure, ident="chart-owners", title="Overdue actions by owner", description=description)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
