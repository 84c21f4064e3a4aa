"""A setting declared once: its flag, help, parser and check drive argparse, ``to_args``, the
checks of :class:`SimulatorConfig` and the flags table of the README and of ``pydoc``.

A :class:`SimulatorConfig` field carries its :class:`Option` in its metadata
(``field(metadata=option(...))``); the server's own flags (host, port) are plain
:class:`Setting` values. Nothing else lists the flags.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OPTION_KEY",
    "Option",
    "Setting",
    "add_arguments",
    "at_least",
    "between",
    "integer",
    "markdown_table",
    "number",
    "one_of",
    "option",
    "render_number",
    "render_switch_word",
    "switch_word",
    "text_table",
]

#: The key of a dataclass field's metadata that holds its :class:`Option`.
OPTION_KEY = "simulator_option"


def _no_check(value: Any) -> None:
    del value


@dataclass(frozen=True)
class Option:
    """How one setting looks on the command line and in the docs, and what values it takes.

    ``parse`` reads the flag's text; ``None`` makes the flag a switch (present means ``True``).
    ``check`` raises :class:`ValueError` saying what is allowed ("must be ..."), for a parsed
    flag and for a value given from Python alike. ``render`` writes a value back as flag text,
    so that ``parse(render(v)) == v``. A ``repeatable`` flag holds a tuple, one item per use.
    """

    flag: str
    help: str
    parse: Callable[[str], Any] | None = None
    check: Callable[[Any], None] = _no_check
    render: Callable[[Any], str] = str
    metavar: str | None = None
    repeatable: bool = False
    #: How the docs show the default when rendering it would say nothing useful ("in memory").
    default_text: str | None = None

    @property
    def is_switch(self) -> bool:
        return self.parse is None

    def validate(self, value: Any) -> None:
        """Raise :class:`ValueError` if ``value`` (a tuple for a repeatable flag) is not allowed."""
        if value is None:
            return
        for item in value if self.repeatable else (value,):
            self.check(item)

    def to_args(self, value: Any) -> list[str]:
        """The command-line words that give this setting ``value`` (none for ``None``/off)."""
        if value is None:
            return []
        if self.is_switch:
            return [self.flag] if value else []
        if self.repeatable:
            return [word for item in value for word in (self.flag, self.render(item))]
        return [self.flag, self.render(value)]

    def describe_default(self, default: Any) -> str:
        if self.default_text is not None:
            return self.default_text
        if self.is_switch:
            return "on" if default else "off"
        return self.render(default)

    def _argparse_type(self) -> Callable[[str], Any]:
        parse = self.parse
        assert parse is not None

        def convert(text: str) -> Any:
            try:
                value = parse(text)
                self.check(value)
            except ValueError as exc:
                # argparse prints "argument --flag: <this message>".
                raise argparse.ArgumentTypeError(str(exc)) from exc
            return value

        return convert


def option(flag: str, help: str, **kwargs: Any) -> dict[str, Option]:
    """Field metadata declaring a setting: ``field(default=..., metadata=option("--db", ...))``."""
    return {OPTION_KEY: Option(flag, help, **kwargs)}


@dataclass(frozen=True)
class Setting:
    """A named setting with its default and :class:`Option` (a field, or a server flag)."""

    name: str
    default: Any
    option: Option


def add_arguments(parser: argparse.ArgumentParser, settings: Iterable[Setting]) -> None:
    """One argparse argument per setting; its value lands in the namespace under ``name``."""
    for setting in settings:
        opt = setting.option
        # argparse %-formats help texts.
        text = opt.help.replace("%", "%%")
        if opt.is_switch:
            parser.add_argument(opt.flag, dest=setting.name, action="store_true", help=text)
            continue
        described = opt.describe_default(setting.default).replace("%", "%%")
        common: dict[str, Any] = {"dest": setting.name, "type": opt._argparse_type(), "metavar": opt.metavar}
        if opt.repeatable:
            parser.add_argument(
                opt.flag,
                action="append",
                default=[],
                help=f"{text}; repeatable (default: {described})",
                **common,
            )
        else:
            parser.add_argument(
                opt.flag, default=setting.default, help=f"{text} (default: {described})", **common
            )


def _flag_words(opt: Option) -> str:
    return opt.flag if opt.metavar is None else f"{opt.flag} {opt.metavar}"


def markdown_table(settings: Sequence[Setting]) -> str:
    """The README's flags table: flag, default, meaning; one row per setting, in order."""
    lines = ["| flag | default | meaning |", "| --- | --- | --- |"]
    for setting in settings:
        opt = setting.option
        # A value in code; a default said in words ("in memory", "off") as such.
        default = opt.describe_default(setting.default)
        if opt.default_text is None and not opt.is_switch:
            default = f"`{default}`"
        cells = (f"`{_flag_words(opt)}`", default, opt.help)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def text_table(settings: Sequence[Setting], *, names: bool = False) -> str:
    """The same list as plain text, for ``pydoc``; with ``names``, each setting's name too."""
    lines = []
    for setting in settings:
        opt = setting.option
        name = f"{setting.name}, " if names else ""
        lines.append(f"{_flag_words(opt)}  ({name}default: {opt.describe_default(setting.default)})")
        lines.append(f"    {opt.help}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Parsers and checks shared by the declarations


def number(text: str) -> float:
    """A decimal number (``float``), with a message that says what was expected."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"must be a number, not {text!r}") from None


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, not {text!r}") from None


def at_least(minimum: float, *, inclusive: bool = True) -> Callable[[Any], None]:
    """A finite number ``>= minimum`` (``> minimum`` when not ``inclusive``)."""
    relation = ">=" if inclusive else ">"

    def check(value: Any) -> None:
        ok = math.isfinite(value) and (value >= minimum if inclusive else value > minimum)
        if not ok:
            raise ValueError(f"must be a finite number {relation} {minimum:g}, not {value}")

    return check


def between(low: float, high: float) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}, not {value}")

    return check


def one_of(*allowed: Any) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        # bool is an int: True must not pass for 1.
        if not any(type(value) is type(choice) and value == choice for choice in allowed):
            raise ValueError(f"must be one of {', '.join(str(choice) for choice in allowed)}, not {value!r}")

    return check


_SWITCH_WORDS: Mapping[str, bool] = {"on": True, "off": False}


def switch_word(text: str) -> bool:
    """``on`` or ``off``, for a setting whose default is on (a bare switch cannot turn it off)."""
    try:
        return _SWITCH_WORDS[text]
    except KeyError:
        raise ValueError(f"must be on or off, not {text!r}") from None


def render_switch_word(value: bool) -> str:
    return "on" if value else "off"


def render_number(value: float) -> str:
    """``30`` rather than ``30.0``; anything else exactly (``repr`` round-trips a float)."""
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
