"""Reading a preview: the JSON document or the engine events `pulumi preview --json` printed,
as steps and diagnostics, handed to the reviewer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import ExoDistributorError
from .model import PreviewFile
from .reviewer import _review
from .steps import _mapping, _Parsed, _Step, _urn_type

__all__ = ["PreviewFileError", "read_preview"]

_ENGINE_EVENT_KEYS = frozenset(
    {
        "cancelEvent",
        "stdoutEvent",
        "diagnosticEvent",
        "preludeEvent",
        "summaryEvent",
        "resourcePreEvent",
        "resOutputsEvent",
        "resOpFailedEvent",
        "policyEvent",
        "startDebuggingEvent",
        "progressEvent",
        "errorEvent",
    }
)


class PreviewFileError(ExoDistributorError):
    """A file that is not the output of `pulumi preview --json`: unreadable, empty or of another shape."""


def read_preview(text: str, source: str) -> PreviewFile:
    """Review one preview: ``text`` is what `pulumi preview --json` printed, ``source`` names it.

    Raises :class:`PreviewFileError` (naming ``source``) for anything that is not such an output.
    """
    parsed = _parse(text, source)
    return _review(parsed, source)


def _parse(text: str, source: str) -> _Parsed:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise PreviewFileError(
            f"{source} is empty: `pulumi preview --json` printed nothing (it failed before the preview "
            "started: see its error output)"
        )
    events: list[Any] | None
    try:
        document: Any = json.loads(text)
    except ValueError:
        document, events = None, _json_lines(text, source)
    else:
        events = None
        if isinstance(document, list):
            events, document = document, None
    if isinstance(document, dict):
        if _is_event(document):
            events = [document]
        elif {"steps", "changeSummary", "diagnostics", "config", "duration"} & document.keys():
            return _digest(document, source)
        else:
            raise PreviewFileError(
                f"{source} is JSON but not the output of `pulumi preview --json` (no steps, diagnostics "
                f"or changeSummary; its keys: {', '.join(sorted(document)[:8]) or 'none'})"
            )
    if events is None:
        raise PreviewFileError(
            f"{source} is JSON but not the output of `pulumi preview --json` (a {type(document).__name__})"
        )
    return _events(events, source)


def _json_lines(text: str, source: str) -> list[Any]:
    events: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError as exc:
            raise PreviewFileError(
                f"{source} is not the output of `pulumi preview --json`: line {number} is not JSON ({exc}): "
                f"{line.strip()[:80]!r}"
            ) from None
    return events


def _is_event(value: object) -> bool:
    return isinstance(value, dict) and bool(_ENGINE_EVENT_KEYS & value.keys())


def _digest(document: Mapping[str, Any], source: str) -> _Parsed:
    parsed = _Parsed("digest", summary=_mapping(document.get("changeSummary")))
    steps = document.get("steps")
    steps = [] if steps is None else steps
    diagnostics = document.get("diagnostics")
    diagnostics = [] if diagnostics is None else diagnostics
    if not isinstance(steps, list) or not isinstance(diagnostics, list):
        raise PreviewFileError(f"{source}: `steps` and `diagnostics` must be lists in a preview's JSON")
    for index, raw in enumerate(steps):
        step = _mapping(raw)
        if step is None or not isinstance(step.get("op"), str) or not isinstance(step.get("urn"), str):
            raise PreviewFileError(f"{source}: step {index + 1} has no `op` or `urn`: not a preview's step")
        old, new = _mapping(step.get("oldState")), _mapping(step.get("newState"))
        reasons = step.get("replaceReasons") or ()
        parsed.steps.append(
            _Step(
                op=step["op"],
                urn=step["urn"],
                type=str((new or old or {}).get("type") or _urn_type(step["urn"])),
                old=old,
                new=new,
                replace_reasons=tuple(str(reason) for reason in reasons),
            )
        )
    for raw in diagnostics:
        diagnostic = _mapping(raw) or {}
        parsed.diagnostics.append(
            (
                str(diagnostic.get("severity") or "info"),
                str(diagnostic.get("message") or ""),
                diagnostic.get("urn") or None,
            )
        )
    return parsed


def _events(events: Sequence[Any], source: str) -> _Parsed:
    if not events or not all(_is_event(event) for event in events):
        bad = next((index for index, event in enumerate(events) if not _is_event(event)), 0)
        raise PreviewFileError(
            f"{source} is not the output of `pulumi preview --json`: item {bad + 1} is not an engine event "
            "(neither a preview's JSON document nor one engine event per line)"
        )
    parsed = _Parsed("events")
    for event in events:
        pre = _mapping(event.get("resourcePreEvent"))
        if pre is not None:
            metadata = _mapping(pre.get("metadata")) or {}
            op, urn = metadata.get("op"), metadata.get("urn")
            if not isinstance(op, str) or not isinstance(urn, str):
                raise PreviewFileError(f"{source}: a resourcePreEvent has no `op` or `urn`")
            parsed.steps.append(
                _Step(
                    op=op,
                    urn=urn,
                    type=str(metadata.get("type") or _urn_type(urn)),
                    old=_mapping(metadata.get("old")),
                    new=_mapping(metadata.get("new")),
                    replace_reasons=tuple(str(key) for key in metadata.get("keys") or ()),
                )
            )
        diagnostic = _mapping(event.get("diagnosticEvent"))
        if diagnostic is not None and not diagnostic.get("ephemeral"):
            severity = str(diagnostic.get("severity") or "info")
            if severity != "debug":
                message = str(diagnostic.get("prefix") or "") + str(diagnostic.get("message") or "")
                parsed.diagnostics.append((severity, message, diagnostic.get("urn") or None))
        summary = _mapping(event.get("summaryEvent"))
        if summary is not None:
            parsed.summary = _mapping(summary.get("resourceChanges")) or {}
            if summary.get("result") not in (None, "succeeded"):
                parsed.failure = f"the preview's result is {summary.get('result')!r}"
    if parsed.summary is None and parsed.failure is None:
        parsed.failure = "the events end before the preview's summary: the preview was cut short"
    return parsed
