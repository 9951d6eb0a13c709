"""Clause 5.6: no confidential information in the city's own posts, checked before and after posting.

A post is checked twice over: the 5.7.9 private-information detector (a staff member's direct line,
a resident's address) and the policy file's confidential list (release markers such as "not for
release", internal project names, staff extensions). The same check serves ``civicwatch check-post``
(a draft, before publishing) and the worker (every post read from the platforms), so staff and the
worker never disagree. Pure: text in, findings out.

Why not flag every 5.7.9 finding: the city publishes its own contacts (311, the main line) and the
place of public works ("closed at 1234 Ouellette Ave"); those pass, everything the detector scores at
or over the 5.7.9 rule's threshold does not, whoever it names, since in the city's own voice even the
author's "call me at" is a staff member's direct line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pipelines.policy import ConfidentialList, Policy, load_policy


@dataclass(frozen=True, slots=True)
class PostFinding:
    """One piece of evidence in a post: the clause it breaks, where (code points, end exclusive), why."""

    clause: str
    label: str
    start: int
    end: int
    text: str
    score: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(self.score, 4),
            "detail": self.detail,
        }


def _phrase(term: str) -> str:
    words = [re.escape(w) for w in term.split()]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


class PostChecker:
    """The policy's 5.6 check, compiled once; ``check`` is safe to call from many coroutines."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy if policy is not None else load_policy()
        self.listing: ConfidentialList = self.policy.confidential
        terms = sorted({t.strip() for t in self.listing.terms if t.strip()}, key=len, reverse=True)
        self.terms = re.compile("|".join(_phrase(t) for t in terms), re.IGNORECASE) if terms else None
        self.patterns = [(p.label, re.compile(p.regex, re.IGNORECASE)) for p in self.listing.patterns]
        self.allow = [re.compile(a, re.IGNORECASE) for a in self.listing.allow]

    @cached_property
    def _private(self) -> tuple[Any, float] | None:
        """The 5.7.9 detector as the policy configures it, with the city's public contacts allowed."""
        from pipelines.detectors import load_all
        from pipelines.detectors.private_info import CITY_PUBLIC, PrivateInfoDetector

        load_all()
        rule = next((r for r in self.policy.enabled_rules if r.detector == PrivateInfoDetector.name), None)
        if rule is None:
            return None
        settings = dict(rule.settings)
        allow = list(settings.get("allow", CITY_PUBLIC)) + list(self.listing.public_contacts)
        settings["allow"] = allow
        return PrivateInfoDetector(settings), rule.threshold

    def check(self, text: str, language: str | None = None) -> list[PostFinding]:
        """Every finding in ``text``, in reading order; empty when the post may go out."""
        findings = self._listed(text) + self._private_info(text, language)
        return sorted(findings, key=lambda f: (f.start, f.end, f.clause))

    def _listed(self, text: str) -> list[PostFinding]:
        allowed = [m.span() for a in self.allow for m in a.finditer(text)]

        def public(start: int, end: int) -> bool:
            return any(a <= start and end <= b for a, b in allowed)

        clause = self.listing.clause
        out: list[PostFinding] = []
        if self.terms is not None:
            for m in self.terms.finditer(text):
                if not public(*m.span()):
                    out.append(PostFinding(clause, "CONFIDENTIAL_TERM", m.start(), m.end(), m.group(), 1.0))
        for label, rx in self.patterns:
            for m in rx.finditer(text):
                if not public(*m.span()):
                    out.append(PostFinding(clause, label, m.start(), m.end(), m.group(), 1.0))
        return out

    def _private_info(self, text: str, language: str | None) -> list[PostFinding]:
        private = self._private
        if private is None or not text.strip():
            return []
        detector, threshold = private
        import spacy

        from pipelines.base import Comment
        from pipelines.language import detect_language

        if language is None:  # the name model to use: the city posts in English and French
            guessed = detect_language(text)
            language = guessed if guessed in ("en", "fr") else None
        doc = spacy.blank("en").make_doc(text)
        tags = detector.detect(Comment(doc, language=language, text=text, expose=False))
        out = []
        for tag in tags:
            if tag.score < threshold:
                continue
            for span in tag.spans:
                out.append(
                    PostFinding(
                        tag.clause, span.label, span.start, span.end, text[span.start : span.end], tag.score, tag.detail
                    )
                )
        return out
