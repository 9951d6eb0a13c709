"""Comment text made inert for the browser, with evidence highlighted and private data redacted.

A comment is untrusted input everywhere. Templates autoescape, so markup arrives as text; this
module adds what escaping cannot: bidirectional controls (which can reorder what a moderator
reads, e.g. U+202E) and invisible characters are shown as visible code points instead of being
interpreted, and enormous text is cut to a displayable head with the rest counted.

Evidence spans are code-point offsets into the original text (``schemas.SpanModel``), so
highlighting and redaction are computed on the original string, character by character, before
anything is escaped. Private information (clause 5.7.9) is redacted unless the viewer's role may
see it; then it is highlighted like other evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from markupsafe import Markup, escape

from pipelines.detectors.private_info import find_private
from pipelines.policy import Policy
from runtime.settings import REPO_ROOT
from schemas import TagModel

DISPLAY_LIMIT = 20_000
"""Characters shown on an item page; X allows 25,000 and hostile input can be far longer."""
SNIPPET_LIMIT = 280

_VISIBLE_CONTROLS = {"\n", "\t"}


def _needs_marker(ch: str) -> bool:
    if ch in _VISIBLE_CONTROLS:
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")


def inert(text: str) -> Markup:
    """Escape ``text`` and replace every control, format (bidi, zero-width) or private-use
    character with a visible ``U+XXXX`` marker."""
    out: list[str] = []
    plain: list[str] = []
    for ch in text:
        if _needs_marker(ch):
            if plain:
                out.append(str(escape("".join(plain))))
                plain = []
            out.append(f'<span class="ctl" title="hidden character">U+{ord(ch):04X}</span>')
        else:
            plain.append(ch)
    if plain:
        out.append(str(escape("".join(plain))))
    return Markup("".join(out))


@dataclass(frozen=True)
class Segment:
    text: str
    kind: Literal["plain", "evidence", "redacted"]
    label: str = ""


@dataclass(frozen=True)
class Shown:
    segments: list[Segment]
    hidden_chars: int
    redacted: int


def private_spans(text: str, tags: Iterable[TagModel]) -> list[tuple[int, int, str]]:
    """Spans of private information: the 5.7.9 tags' evidence, plus whatever the detector finds now
    at any score (a span under the threshold is still someone's phone number)."""
    spans = [(s.start, s.end, s.label) for t in tags if t.category == "private_info" for s in t.spans]
    spans.extend((e.start, e.end, e.label) for e in find_private(text) if e.label != "PERSON")
    return spans


def show(text: str, tags: Iterable[TagModel], reveal_private: bool, limit: int = DISPLAY_LIMIT) -> Shown:
    """The text as segments: plain, evidence (with clause labels) or redacted (``<PHONE>``)."""
    tags = list(tags)
    head = text[:limit]
    n = len(head)
    evidence: list[str | None] = [None] * n
    private: list[int | None] = [None] * n
    for tag in tags:
        if tag.category == "private_info" and not reveal_private:
            continue
        label = f"{tag.clause} {tag.category}"
        for span in tag.spans:
            for i in range(max(0, span.start), min(n, span.end)):
                evidence[i] = evidence[i] or label
    labels: list[str] = []
    if not reveal_private:
        for start, end, label in sorted(private_spans(text, tags)):
            labels.append(label)
            for i in range(max(0, start), min(n, end)):
                if private[i] is None:
                    private[i] = len(labels) - 1
    segments: list[Segment] = []
    i = 0
    redacted = 0
    while i < n:
        if private[i] is not None:
            span_id = private[i]
            while i < n and private[i] == span_id:
                i += 1
            segments.append(Segment(f"<{labels[span_id or 0]}>", "redacted"))
            redacted += 1
            continue
        j = i
        while j < n and private[j] is None and evidence[j] == evidence[i]:
            j += 1
        found = evidence[i]
        segments.append(Segment(head[i:j], "evidence" if found else "plain", found or ""))
        i = j
    return Shown(segments, len(text) - n, redacted)


def redacted_snippet(text: str, tags: Iterable[TagModel], limit: int = SNIPPET_LIMIT) -> str:
    """A short, always-redacted excerpt for lists (the full text is on the item page)."""
    shown = show(text, tags, reveal_private=False, limit=limit)
    body = "".join(s.text for s in shown.segments)
    return body + ("…" if shown.hidden_chars else "")


_CLAUSE_LINE = re.compile(r"^\s*-?\s*(\d+(?:\.\d+)+)\**\s+(.*\S)\s*$")


class PolicyText:
    """Clause texts quoted from the policy document named by the policy file's ``source``.

    If the document is not on this machine the clause titles from the policy file are quoted
    instead, and ``source_found`` says so on the page.
    """

    def __init__(self, policy: Policy, path: Path | None = None, policy_file: Path | None = None) -> None:
        self.policy = policy
        self.path = path or self._locate(policy.source, policy_file)
        self.clauses: dict[str, str] = self._parse(self.path) if self.path is not None else {}

    @property
    def source_found(self) -> bool:
        return bool(self.clauses)

    @staticmethod
    def _locate(source: str, policy_file: Path | None) -> Path | None:
        if not source:
            return None
        bases = [REPO_ROOT, Path.cwd()] + ([policy_file.parent] if policy_file is not None else [])
        for base in bases:
            candidate = (base / source).resolve()
            if candidate.is_file():
                return candidate
        return None

    @staticmethod
    def _parse(path: Path) -> dict[str, str]:
        clauses: dict[str, str] = {}
        current: str | None = None
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            m = _CLAUSE_LINE.match(line)
            if m:
                current = m.group(1)
                clauses[current] = m.group(2).strip()
            elif not line.strip():
                current = None
            elif current is not None:
                clauses[current] += " " + line.strip()
        return clauses

    def quote(self, clause: str) -> list[tuple[str, str]]:
        """The clause with the lead-in of its parent (5.7.2 is read under 5.7's "shall not be allowed")."""
        parent = clause.rsplit(".", 1)[0]
        out: list[tuple[str, str]] = []
        if "." in parent and parent in self.clauses:
            out.append((parent, self.clauses[parent]))
        if clause in self.clauses:
            out.append((clause, self.clauses[clause]))
        else:
            title = next((r.title for r in self.policy.rules if r.clause == clause and r.title), "")
            out.append((clause, title or "(clause text unavailable)"))
        return out


@lru_cache(maxsize=4)
def policy_text(policy_path: Path | None, text_path: Path | None) -> PolicyText:
    from pipelines.policy import DEFAULT_POLICY, load_policy

    return PolicyText(load_policy(policy_path), text_path, policy_path or DEFAULT_POLICY)
