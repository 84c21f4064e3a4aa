"""What a `pulumi preview --json` will do to each customer, in business terms.

``exo-distributor review`` reads the preview of one or several stacks and says, per
``DistributorOrganization``, what `pulumi up` would do to the customer's organization: create one,
take one over, suspend or re-activate it, terminate it (and purge it), leave it running unmanaged,
replace it, or only record a new value. The deletion policy of a delete or a replacement is read
from the preview itself (the old state's inputs, else its outputs, else the documented default),
so a review needs neither credentials nor the Partner API.

Two shapes of input are understood, both printed by `pulumi preview --json`:

- the digest (the default): one JSON document with ``steps`` (``op``, ``urn``, ``oldState``,
  ``newState``, ``replaceReasons``...), ``diagnostics`` and ``changeSummary``;
- engine events (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true``, or ``--event-log``): one JSON
  object per line, ``resourcePreEvent.metadata`` holding ``op``, ``urn``, ``old`` and ``new``.

This package is pure: it imports neither Pulumi nor the client, and reads nothing but the text it
is given. The command (``cli.py``) draws what it finds.

- :mod:`.model`: exit codes, levels, consequences, and the changes and verdict of a review;
- :mod:`.steps`: a preview's steps as plain data, shared by reading and reviewing;
- :mod:`.reading`: the JSON document or the engine events, as steps (:func:`read_preview`);
- :mod:`.states`: what a step's old or new state records;
- :mod:`.reviewer`: what each step means to a customer;
- :mod:`.comment`: the review as a pull-request comment (:func:`markdown`).
"""

from __future__ import annotations

from .comment import MARKDOWN_MAX_ROWS, markdown, verdict_sentence
from .model import (
    CONSEQUENCES,
    EXIT_ATTENTION,
    EXIT_CLEAN,
    EXIT_DESTRUCTIVE,
    EXIT_PREVIEW_FAILED,
    UNCHANGED,
    Change,
    Consequence,
    Diagnostic,
    Level,
    PreviewFile,
    Review,
)
from .reading import PreviewFileError, read_preview

__all__ = [
    "CONSEQUENCES",
    "EXIT_ATTENTION",
    "EXIT_CLEAN",
    "EXIT_DESTRUCTIVE",
    "EXIT_PREVIEW_FAILED",
    "MARKDOWN_MAX_ROWS",
    "UNCHANGED",
    "Change",
    "Consequence",
    "Diagnostic",
    "Level",
    "PreviewFile",
    "PreviewFileError",
    "Review",
    "markdown",
    "read_preview",
    "verdict_sentence",
]
