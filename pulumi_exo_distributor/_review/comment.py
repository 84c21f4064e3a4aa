"""The review as a pull-request comment, in markdown: the verdict, the counts, a table per
consequence and the preview's errors and warnings.
"""

from __future__ import annotations

import html
import re
from collections import Counter

from .model import CONSEQUENCES, UNCHANGED, Level, Review

__all__ = ["MARKDOWN_MAX_ROWS", "markdown", "verdict_sentence"]

#: Rows a markdown review lists by default: a pull-request comment holds 65,536 characters.
MARKDOWN_MAX_ROWS = 100
_MARKS = {Level.DESTRUCTIVE: "🛑", Level.ATTENTION: "⚠️", Level.NONE: ""}
_FAILED_MARK = "❌"
_MESSAGE_LIMIT = 3000
_ERRORS_PER_FILE = 10
_ERRORS_BUDGET = 20000
_MARKDOWN_SPECIALS = "\\`*_[]|~#"


def _md(text: str | None) -> str:
    """Text for a markdown table cell: nothing in it is markup, and it stays on one line."""
    if not text:
        return ""
    text = html.escape(" ".join(text.split()), quote=False)
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)


def _md_code(text: str | None) -> str:
    if not text:
        return ""
    if "`" in text:
        return _md(text)
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"


def _fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def verdict_sentence(review: Review) -> str:
    """What the review concludes, in one sentence (markdown)."""
    counts = review.counts
    if review.failed:
        return (
            f"**{_FAILED_MARK} The preview failed**: what it lists is not everything `pulumi up` would do. "
            "Fix the errors below first."
        )
    if review.level is Level.DESTRUCTIVE:
        destructive = sum(counts[c.key] for c in CONSEQUENCES if c.level is Level.DESTRUCTIVE)
        return (
            f"**{_MARKS[Level.DESTRUCTIVE]} Destructive: {destructive} organization(s) would be terminated, "
            "purged or replaced.** Check every row below before merging."
        )
    if review.level is Level.ATTENTION:
        attention = sum(1 for change in review.changes if change.level is Level.ATTENTION)
        return (
            f"**{_MARKS[Level.ATTENTION]} Needs attention: {attention} change(s)** suspend a customer, leave "
            "an organization unmanaged, or make a later removal destructive. Nothing is destroyed."
        )
    return "Nothing destructive or disruptive."


def markdown(review: Review, *, include_unchanged: bool = False, max_rows: int = MARKDOWN_MAX_ROWS) -> str:
    """The review as markdown for a pull-request comment: a heading, the counts, then a table per
    consequence, the most destructive first, at most ``max_rows`` rows in all."""
    lines = ["## Customer organizations: what this change does", "", verdict_sentence(review), ""]
    stacks = review.stacks
    lines += [
        f"Stacks: {', '.join(_md_code(stack) for stack in stacks) or 'none named'} "
        f"({len(review.files)} preview(s)).",
        "",
        "| | Consequence | Organizations |",
        "|---|---|---:|",
    ]
    counts = review.counts
    changes = review.changes
    levels = {
        c.key: max((x.level for x in changes if x.consequence == c), default=c.level) for c in CONSEQUENCES
    }
    for consequence in CONSEQUENCES:
        if counts[consequence.key] or consequence is UNCHANGED:
            mark = _MARKS[levels[consequence.key]]
            lines.append(f"| {mark} | {consequence.title} | {counts[consequence.key]} |")
    lines.append("")
    if review.unchanged_count and not review.unchanged and any(f.unlisted_unchanged for f in review.files):
        lines += [
            "<sub>Unchanged: counted by the engine, not listed by the preview "
            "(`pulumi preview --show-sames` lists them).</sub>",
            "",
        ]

    rows_left = max_rows
    listed = changes + (review.unchanged if include_unchanged else [])
    for consequence in CONSEQUENCES:
        rows = [change for change in listed if change.consequence == consequence]
        if not rows:
            continue
        mark = _MARKS[max(row.level for row in rows)]
        lines += [
            f"### {mark} {consequence.title} ({len(rows)})".replace("###  ", "### "),
            "",
            "| Organization | Name | Client id | Stack | Resource | What happens |",
            "|---|---|---|---|---|---|",
        ]
        shown = rows[: max(rows_left, 0)]
        for row in shown:
            organization = _md_code(row.organization_id) or "(new)"
            lines.append(
                f"| {organization} | {_md(row.name)} | {_md_code(row.client_id)} | "
                f"{_md(row.stack or row.source)} | {_md_code(row.resource)} | {_md(row.detail)} |"
            )
        rows_left -= len(shown)
        if len(shown) < len(rows):
            lines.append(
                f"| … | {len(rows) - len(shown)} more | | | | see the preview itself, or "
                "`exo-distributor review --output json` |"
            )
        lines.append("")

    budget = _ERRORS_BUDGET  # characters of error messages in all: many failed shards stay readable
    for file in review.failed:
        lines += [f"### {_FAILED_MARK} The preview failed: {_md(file.source)}", "", _md(file.failure), ""]
        cited = 0
        for error in file.errors[:_ERRORS_PER_FILE]:
            if budget <= 0:
                break
            message = error.message
            limit = min(_MESSAGE_LIMIT, budget)
            if len(message) > limit:
                message = message[:limit] + "\n[... cut]"
            budget -= len(message)
            lines += [_fenced(message), ""]
            cited += 1
        if len(file.errors) > cited:
            lines += [f"and {len(file.errors) - cited} more error(s): see the preview itself.", ""]

    warnings = review.warnings
    if warnings:
        distinct = Counter(warning.message for warning in warnings)
        lines += [f"<details><summary>{len(warnings)} warning(s) of the preview</summary>", ""]
        lines += [
            f"- {_md(message[:_MESSAGE_LIMIT])}" + (f" ({count} times)" if count > 1 else "")
            for message, count in list(distinct.items())[:_ERRORS_PER_FILE]
        ]
        lines += ["", "</details>", ""]
    lines.append(f"<sub>`exo-distributor review`: exit code {review.exit_code} ({review.verdict}).</sub>")
    return "\n".join(lines) + "\n"
