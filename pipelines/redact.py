"""Replacing private information with its type (``<PHONE>``) wherever text leaves the review path.

Clause 6.1: personal information collected through social media is protected under MFIPPA. The
review queue may show it to roles allowed to see it; logs, analytics, exports and the demo get
redacted text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class SpanLike(Protocol):
    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def label(self) -> str: ...


def redact(text: str, spans: Iterable[SpanLike]) -> str:
    """Replace each span with ``<LABEL>``; overlapping spans merge under the first label."""
    merged: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        start, end = max(0, span.start), min(len(text), span.end)
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            first = merged[-1]
            merged[-1] = (first[0], max(first[1], end), first[2])
            continue
        merged.append((start, end, span.label))
    out, pos = [], 0
    for start, end, label in merged:
        out.append(text[pos:start])
        out.append(f"<{label}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact_private(text: str, language: str | None = None, names: bool = True) -> str:
    """Redact every private-information span the 5.7.9 detector finds, whatever its score.

    Names are redacted when they come with a private fact (``names=False`` skips the NER stage);
    the fact itself stays, since without the name it no longer points at anyone.
    """
    from pipelines.detectors.private_info import find_private, ner_names

    spans = find_private(text, ner_names(language) if names else None, names_with_other_pii=True)
    return redact(text, [s for s in spans if s.label != "PRIVATE_FACT"])
