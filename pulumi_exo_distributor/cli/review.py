"""``exo-distributor review``: what a `pulumi preview` would do to each customer (the analysis is
``_review``'s; this module draws it)."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from .._review import (
    CONSEQUENCES,
    MARKDOWN_MAX_ROWS,
    UNCHANGED,
    Level,
    PreviewFile,
    PreviewFileError,
    Review,
    markdown,
    read_preview,
)
from ._app import app
from ._base import CommandError, _stdout_console
from ._output import _cell, _print_json, _table

# -- review ----------------------------------------------------------------------------------------

_LEVEL_STYLES = {Level.DESTRUCTIVE: "bold red", Level.ATTENTION: "yellow", Level.NONE: ""}


def _read_preview(path: str) -> PreviewFile:
    source = "stdin" if path == "-" else path
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read()
    except OSError as exc:
        raise CommandError(
            f"cannot read {source}: {exc.strerror or exc}",
            "give the file that `pulumi preview --json` wrote, or - for stdin",
        ) from None
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start}): not the output of "
            "`pulumi preview --json`"
        ) from None
    try:
        return read_preview(text, source)
    except PreviewFileError as exc:
        raise CommandError(
            str(exc), "write the preview with `pulumi preview --json > preview.json` (stdout only)"
        ) from None


def _print_review(result: Review, *, include_unchanged: bool, max_rows: int | None) -> None:
    console = _stdout_console()
    style = _LEVEL_STYLES[result.level] if not result.failed else "bold red"
    console.print(Text(_review_headline(result), style=style))
    counts = _table("CONSEQUENCE", "ORGANIZATIONS", numeric=("ORGANIZATIONS",))
    for consequence in CONSEQUENCES:
        if result.counts[consequence.key] or consequence is UNCHANGED:
            counts.add_row(_cell(consequence.title), _cell(result.counts[consequence.key]))
    console.print(counts)
    listed = result.changes + (result.unchanged if include_unchanged else [])
    rows_left = max_rows
    for consequence in CONSEQUENCES:
        rows = [change for change in listed if change.consequence == consequence]
        if not rows:
            continue
        level = max(row.level for row in rows)
        table = _table(
            "ORGANIZATION",
            "NAME",
            "CLIENT ID",
            "STACK",
            "RESOURCE",
            "WHAT HAPPENS",
            title=f"{consequence.title} ({len(rows)})",
        )
        if level is not Level.NONE:
            table.title_style = _LEVEL_STYLES[level]
        shown = rows if rows_left is None else rows[: max(rows_left, 0)]
        for row in shown:
            cells = (row.organization_id or "(new)", row.name, row.client_id, row.stack or row.source)
            table.add_row(*map(_cell, (*cells, row.resource, row.detail)))
        if len(shown) < len(rows):
            table.add_row(_cell("..."), _cell(f"{len(rows) - len(shown)} more (--max-rows)"))
        if rows_left is not None:
            rows_left -= len(shown)
        console.print()
        console.print(table)
    if include_unchanged and not result.unchanged and result.unchanged_count:
        console.print(
            f"{result.unchanged_count} unchanged: the preview does not list them "
            "(`pulumi preview --show-sames` does)"
        )
    for file in result.failed:
        console.print()
        console.print(Text(f"{file.source}: {file.failure}", style="bold red"))
        for error in file.errors:
            console.print(Text(error.message))
    warnings = result.warnings
    if warnings:
        console.print()
        for message in dict.fromkeys(warning.message for warning in warnings):
            console.print(Text(f"warning: {message}", style="yellow"))
    console.print()
    console.print(f"exit code {result.exit_code} ({result.verdict})")


def _review_headline(result: Review) -> str:
    if result.failed:
        return "The preview failed: what it lists is not everything `pulumi up` would do."
    if result.level is Level.DESTRUCTIVE:
        return "DESTRUCTIVE: organizations would be terminated, purged or replaced."
    if result.level is Level.ATTENTION:
        return "Needs attention: nothing is destroyed, but customers are affected."
    return "Nothing destructive or disruptive."


@app.command()
@click.argument(
    "previews",
    metavar="PREVIEW...",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(("table", "markdown", "json")),
    default="table",
    show_default=True,
    help="A table for people, markdown for a pull-request comment, json for programs.",
)
@click.option(
    "--all", "all_", is_flag=True, help="List the unchanged organizations too (those the preview lists)."
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    help=f"List at most this many organizations (default: {MARKDOWN_MAX_ROWS} for markdown, all otherwise).",
)
def review(previews: tuple[str, ...], output: str, all_: bool, max_rows: int | None) -> None:
    """What `pulumi up` would do to each customer, read from `pulumi preview --json` output.

    Give one file per stack (or - for stdin): several files make one review over several stacks.
    Each organization is named with what happens to it: created, taken over, suspended,
    re-activated, terminated, terminated and purged, left running unmanaged, replaced, a
    deletion policy changed, or a value recorded with no remote effect. The deletion policy is
    read from the preview itself: no credentials, no API call.

    Exit codes, for CI gates:

    \b
    - 0: nothing destructive or disruptive
    - 10: needs attention: a suspension (or a take-over declared suspended), an organization
      left running unmanaged (retain), a deletion policy made more destructive, an
      organization re-created after it vanished, a step this review does not know
    - 20: destructive: an organization terminated, purged or replaced
    - 30: the preview failed: its errors are reported, the review is incomplete
    - 1: a file cannot be read or is not a preview's JSON (2: a wrong command line)

    Example:

    \b
        pulumi preview --json --refresh --stack prod > prod.json
        exo-distributor review prod.json --output markdown
    """
    result = Review([_read_preview(path) for path in previews])
    if output == "json":
        _print_json(result.as_dict(include_unchanged=all_))
    elif output == "markdown":
        limit = MARKDOWN_MAX_ROWS if max_rows is None else max_rows
        click.echo(markdown(result, include_unchanged=all_, max_rows=limit), nl=False)
    else:
        _print_review(result, include_unchanged=all_, max_rows=max_rows)
    click.get_current_context().exit(result.exit_code)
