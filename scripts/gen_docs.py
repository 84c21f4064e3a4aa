"""`make docs`: the parts of the documentation that the code declares, written from the code.

Each is a region of a page in docs/, between ``<!-- generated:NAME ... -->`` and
``<!-- /generated:NAME -->``; the prose around it is written by hand and left as it is:

- ``cli-reference`` (docs/reference/cli.md): every command of ``exo-distributor``, from its click help;
- ``simulator-flags`` (docs/guides/simulator.md): the simulator's flags, from the declarations of
  ``pulumi_exo_distributor/simulator/_settings.py``;
- ``limits`` (docs/reference/limits.md): every length limit, from ``pulumi_exo_distributor/_limits.py``;
- ``modules`` (docs/development.md): every module of the package, from its docstring.

``--check`` writes nothing and fails, naming each stale region, if a page is not what the code
says (the tests run it). Needs the ``cli`` and ``simulator`` extras (``make setup``).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pulumi_exo_distributor"


@dataclass(frozen=True)
class Region:
    page: str
    name: str
    source: str
    render: Callable[[], str]

    def start(self) -> str:
        return (
            f"<!-- generated:{self.name} from {self.source} by scripts/gen_docs.py: "
            "edit the source, then run `make docs` -->"
        )

    def end(self) -> str:
        return f"<!-- /generated:{self.name} -->"

    def pattern(self) -> re.Pattern[str]:
        return re.compile(
            rf"<!-- generated:{re.escape(self.name)}\b[^\n]*-->\n.*?{re.escape(self.end())}", re.DOTALL
        )


# -- the command reference -----------------------------------------------------------------------


_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "*": "&#42;", "_": "&#95;", "\\": "&#92;"}
_CODE = re.compile(r"`([^`]*)`")


def _code_with_pipes(match: re.Match[str]) -> str:
    """A code span holding a pipe, as HTML: GitHub needs the pipe escaped inside a table, Python-Markdown
    (MkDocs) shows the escape, and both render an entity in ``<code>`` the same."""
    text = match.group(1).replace("\\|", "|")
    if "|" not in text:
        return match.group(0)
    return "<code>" + "".join(_ENTITIES.get(char, char) for char in text) + "</code>"


def _cell(text: str) -> str:
    """Text for a markdown table cell: one line; pipes in code spans as HTML, others escaped."""
    text = _CODE.sub(_code_with_pipes, " ".join(text.split()))
    parts = re.split(r"(<code>.*?</code>|`[^`]*`)", text)
    return "".join(
        part if part.startswith(("<code>", "`")) else part.replace("\\|", "|").replace("|", "\\|")
        for part in parts
    )


def _table(text: str) -> str:
    """A markdown table whose cells may hold code spans with (escaped) pipes, made safe for both renderers."""
    out = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = re.split(r"(?<!\\) \| ", line[2:-2])
            line = "| " + " | ".join(_cell(cell) for cell in cells) + " |"
        out.append(line)
    return "\n".join(out) + "\n"


def _help_markdown(text: str) -> str:
    """A click help text as markdown: paragraphs kept, click's ``\\b`` and ``\\f`` markers honoured."""
    text = inspect.cleandoc(text).split("\f", 1)[0]
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


def _anchor(path: Sequence[str]) -> str:
    return "-".join(path[1:]) or "exo-distributor"


def _commands(
    command: click.Command, ctx: click.Context, path: tuple[str, ...]
) -> Iterator[tuple[click.Command, click.Context, tuple[str, ...]]]:
    yield command, ctx, path
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
                yield from _commands(sub, sub_ctx, (*path, name))


def _the_command() -> click.Command:
    """The click command behind the ``exo-distributor`` console script."""
    import pulumi_exo_distributor.cli as cli

    app = getattr(cli, "app", None)
    if isinstance(app, click.Command):
        return app
    groups = [value for value in vars(cli).values() if isinstance(value, click.Group)]
    if len(groups) != 1:
        raise SystemExit(
            "gen_docs: cannot tell which click group of pulumi_exo_distributor.cli is the command"
        )
    return groups[0]


def cli_reference() -> str:
    root = _the_command()
    out: list[str] = []
    root_ctx = click.Context(root, info_name="exo-distributor", **root.context_settings)
    for command, ctx, path in _commands(root, root_ctx, ("exo-distributor",)):
        level = "#" * min(len(path) + 1, 5)
        out += [f"{level} `{' '.join(path)}` {{#{_anchor(path)}}}", ""]
        if command.help:
            out += [_help_markdown(command.help), ""]
        usage = command.get_usage(ctx).strip()
        out += ["```text", usage, "```", ""]
        arguments = [p for p in command.get_params(ctx) if isinstance(p, click.Argument)]
        if arguments:
            out += ["| argument | required |", "| --- | --- |"]
            for argument in arguments:
                metavar = _cell(f"`{argument.make_metavar(ctx)}`")
                out.append(f"| {metavar} | {'yes' if argument.required else 'no'} |")
            out.append("")
        options = [p for p in command.get_params(ctx) if isinstance(p, click.Option)]
        records = [record for option in options if (record := option.get_help_record(ctx)) is not None]
        if records:
            out += ["| option | description |", "| --- | --- |"]
            for flags, text in records:
                out.append(f"| {_cell(f'`{flags}`')} | {_cell(text)} |")
            out.append("")
        if isinstance(command, click.Group):
            out += ["| command | what it does |", "| --- | --- |"]
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    link = f"[`{name}`](#{_anchor((*path, name))})"
                    out.append(f"| {link} | {_cell(sub.get_short_help_str(limit=300))} |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# -- the simulator's flags, the limits, the modules ---------------------------------------------


def simulator_flags() -> str:
    from pulumi_exo_distributor.simulator._options import markdown_table
    from pulumi_exo_distributor.simulator._settings import all_settings

    return _table(markdown_table(all_settings()))


def limits_table() -> str:
    from pulumi_exo_distributor._limits import ADDRESS_LIMITS, ORGANIZATION_LIMITS, Limit

    def row(field: str, limit: Limit) -> str:
        if limit.min_length == limit.max_length:
            length = f"exactly {limit.max_length}"
        else:
            length = f"{limit.min_length}\u2013{limit.max_length}"
        source = "the API document" if limit.max_from_api else "this package (the API document sets none)"
        return f"| `{field}` | {length} | {source} |"

    lines = ["| input | characters | maximum set by |", "| --- | --- | --- |"]
    lines += [row(field, limit) for field, limit in ORGANIZATION_LIMITS.items()]
    lines += [row(f"billing_address.{field}", limit) for field, limit in ADDRESS_LIMITS.items()]
    return "\n".join(lines) + "\n"


_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")


def _summary(path: Path) -> str:
    """The first paragraph of a module's docstring, as one markdown line."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not docstring:
        rel = path.relative_to(ROOT)
        raise SystemExit(f"gen_docs: {rel} has no docstring: say in one line what the module holds")
    first = docstring.split("\n\n", 1)[0]
    first = _ROLE.sub(r"`\1`", first).replace("``", "`")
    return _cell(first)


def _modules(directory: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(directory.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists():
            yield f"{path.relative_to(PACKAGE)}/", path / "__init__.py"
            yield from _modules(path)
        elif path.suffix == ".py" and path.name != "__init__.py":
            yield str(path.relative_to(PACKAGE)), path


def modules_table() -> str:
    lines = ["| module | holds |", "| --- | --- |"]
    lines += [f"| `{name}` | {_summary(path)} |" for name, path in _modules(PACKAGE)]
    return "\n".join(lines) + "\n"


REGIONS = (
    Region("docs/reference/cli.md", "cli-reference", "the click help of exo-distributor", cli_reference),
    Region(
        "docs/guides/simulator.md",
        "simulator-flags",
        "pulumi_exo_distributor/simulator/_settings.py",
        simulator_flags,
    ),
    Region("docs/reference/limits.md", "limits", "pulumi_exo_distributor/_limits.py", limits_table),
    Region("docs/development.md", "modules", "the docstrings of pulumi_exo_distributor", modules_table),
)


def updated(text: str, region: Region) -> str:
    """``text`` with ``region`` rendered anew; an error if the page has no such region."""
    block = f"{region.start()}\n{region.render().strip(chr(10))}\n{region.end()}"
    new, count = region.pattern().subn(lambda _: block, text)
    if count != 1:
        raise SystemExit(
            f"gen_docs: {region.page} must hold the region {region.name} once, between "
            f"'<!-- generated:{region.name} -->' and '{region.end()}'; found it {count} times"
        )
    return new


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a page is stale")
    args = parser.parse_args(argv)
    pages: dict[str, str] = {}
    for region in REGIONS:
        text = pages.get(region.page) or (ROOT / region.page).read_text(encoding="utf-8")
        pages[region.page] = updated(text, region)
    stale = [page for page, text in pages.items() if (ROOT / page).read_text(encoding="utf-8") != text]
    if args.check:
        for page in stale:
            print(f"{page} is not what the code says: run `make docs` and commit it", file=sys.stderr)
        return 1 if stale else 0
    for page in stale:
        (ROOT / page).write_text(pages[page], encoding="utf-8")
        print(f"{page}: written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
