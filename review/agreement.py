"""What moderators' decisions say about the detectors: per clause and week, the flags confirmed,
the flags kept (false alarms) and the clauses moderators added, and each decision as a training
example.

A decision is the city's own label for a comment. Per flagged clause: hidden or deleted with the
clause still ticked is a confirmation; kept, or hidden with the clause unticked, is a false alarm; a
clause ticked that the detector did not flag was missed (added). Forwarding (5.5) and escalating
say nothing about a flag and are not counted. Counts only: no text, no author, no comment id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from schemas import Aggregate, ReviewItem

Verdict = Literal["confirmed", "false_alarm", "added"]
JUDGING = frozenset({"keep", "hide", "delete"})
"""Decisions that judge the flags; ``forward`` and ``escalate`` do not."""


@dataclass(frozen=True)
class Decided:
    """One item's latest decision, as the view holds it."""

    flagged: tuple[str, ...]
    """The clauses the detector flagged (the review item's)."""
    decision: str
    clauses: tuple[str, ...] | None
    """The clauses the moderator left ticked; ``None`` for a decision recorded before clauses were asked."""
    decided_at: float
    item: ReviewItem | None = None
    """The whole item, when asked for (training examples); counting needs only ``flagged``."""


def verdicts(d: Decided) -> dict[str, Verdict]:
    """The moderator's verdict on each clause the detector flagged or the moderator added."""
    if d.decision not in JUDGING:
        return {}
    flagged = set(d.flagged)
    if d.decision == "keep":
        return dict.fromkeys(sorted(flagged), "false_alarm")
    ticked = set(d.clauses) if d.clauses is not None else flagged
    out: dict[str, Verdict] = {c: "confirmed" if c in ticked else "false_alarm" for c in sorted(flagged)}
    out.update(dict.fromkeys(sorted(ticked - flagged), "added"))
    return out


def week_of(at: float) -> str:
    year, week, _ = datetime.fromtimestamp(at, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> datetime:
    """Monday 00:00 UTC of an ISO week written ``2026-W49``."""
    year, number = week.split("-W")
    return datetime.fromisocalendar(int(year), int(number), 1).replace(tzinfo=UTC)


def weeks_back(now: float, weeks: int) -> float:
    """The start of the ISO week ``weeks - 1`` weeks before ``now``'s: counting from there, the oldest
    week published is whole, so its total never replaces a fuller one (the latest record wins)."""
    return (week_start(week_of(now)) - timedelta(weeks=weeks - 1)).timestamp()


@dataclass
class ClauseWeek:
    week: str
    clause: str
    confirmed: int = 0
    false_alarm: int = 0
    added: int = 0

    @property
    def precision(self) -> float | None:
        """Share of the judged flags that moderators confirmed."""
        judged = self.confirmed + self.false_alarm
        return self.confirmed / judged if judged else None


@dataclass
class Agreement:
    rows: list[ClauseWeek] = field(default_factory=list)

    def totals(self) -> dict[str, ClauseWeek]:
        """Per clause over all weeks shown."""
        out: dict[str, ClauseWeek] = {}
        for r in self.rows:
            t = out.setdefault(r.clause, ClauseWeek("all", r.clause))
            t.confirmed += r.confirmed
            t.false_alarm += r.false_alarm
            t.added += r.added
        return dict(sorted(out.items(), key=lambda kv: _clause_order(kv[0])))

    def most_added(self, n: int = 5) -> list[tuple[str, int]]:
        ranked = sorted(((c, t.added) for c, t in self.totals().items() if t.added), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:n]


def _clause_order(clause: str) -> list[int]:
    return [int(x) for x in clause.split(".") if x.isdigit()]


def agreement(decided: list[Decided]) -> Agreement:
    cells: dict[tuple[str, str], ClauseWeek] = {}
    for d in decided:
        week = week_of(d.decided_at)
        for clause, verdict in verdicts(d).items():
            cell = cells.setdefault((week, clause), ClauseWeek(week, clause))
            setattr(cell, verdict, getattr(cell, verdict) + 1)
    rows = sorted(cells.values(), key=lambda r: (r.week, _clause_order(r.clause)), reverse=False)
    return Agreement(sorted(rows, key=lambda r: r.week, reverse=True))


def as_aggregates(result: Agreement) -> dict[str, Aggregate]:
    """One ``agreement`` record per clause and week, keyed for ``analytics.aggregates`` (2.2.8: what
    moderators made of the flags, for analysts beside the counts of what residents said)."""
    out: dict[str, Aggregate] = {}
    for row in result.rows:
        start = week_start(row.week)
        out[f"week:{row.week}:agreement:{row.clause}"] = Aggregate(
            window="week",
            window_start=start,
            window_end=start + timedelta(weeks=1),
            dimension="agreement",
            key=row.clause,
            comments=row.confirmed + row.false_alarm + row.added,
            flagged=row.confirmed + row.false_alarm,
            confirmed=row.confirmed,
            false_alarms=row.false_alarm,
            added=row.added,
        )
    return out
