"""Synthetic comments for benchmarks and fault tests: written here, varied, reproducible by seed.

Most comments are clean, as on a real city account; the rest exercise every route (review,
auto-hide for private information, council forwarding) so the worker does all of its work. The
texts are templates filled with numbers and streets, never rows of the dev data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

from schemas import Comment

STREETS = ("Wyandotte", "Ouellette", "Tecumseh", "Howard", "Walker", "Dougall", "Erie", "Drouillard")
CLEAN = (
    "Thanks to the crews for clearing {street} this morning, it was done before 7.",
    "When does the leaf pickup start on {street}? Our bags have been out since Tuesday.",
    "The new bike lane on {street} is great, my commute is {n} minutes shorter.",
    "Is the pool at the community centre open on the holiday Monday?",
    "Merci pour la mise à jour, est-ce que la collecte de recyclage est retardée sur {street}?",
    "Could you post the schedule for the {street} construction detour? Buses are {n} minutes late.",
    "Great photos from the riverfront festival, see you all next year!",
    "My street lights on {street} have been out for {n} days now, who do I call about this?",
    "Long comment about the budget consultation: I attended the session at the library and I think the "
    "plan for road repairs on {street} makes sense, but the timeline for the sidewalks seems too long. "
    "Please consider doing the school zones first, {n} kids walk there every day.",
)
PROFANE = ("This fucking snow removal on {street} is a joke, day {n}", "What a shitty job on {street}, again.")
PRIVATE = (
    "My neighbour's cell is 519-974-{n4}, call him about the fence on {street}",
    "Email him at jsmith{n}@example.com, he lives at {n} {street} Road",
)
COUNCIL = ("Will the mayor answer question {n} about the budget?", "Councillor, please fix {street} before winter.")

MIX = ((CLEAN, 0.70), (PROFANE, 0.12), (PRIVATE, 0.08), (COUNCIL, 0.10))


def texts(n: int, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    groups = [g for g, _ in MIX]
    weights = [w for _, w in MIX]
    for i in range(n):
        template = rng.choice(rng.choices(groups, weights)[0])
        yield template.format(street=rng.choice(STREETS), n=i, n4=f"{i % 10000:04d}")


def comments(
    n: int, seed: int = 7, prefix: str = "c", received_now: bool = False, created: datetime | None = None
) -> Iterator[Comment]:
    """``n`` comments with ids ``{prefix}{i}``; ``received_now`` stamps each as it is made.

    ``created`` (default a fixed day) is when residents wrote them: analytics counts a comment in
    the windows of that time, and not at all once they have expired.
    """
    created = created or datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    for i, text in enumerate(texts(n, seed)):
        yield Comment(
            platform="x",
            comment_id=f"{prefix}{i}",
            post_id=f"p{i % 12}",
            author_id=f"a{i % 97}",
            text=text,
            created_at=created,
            received_at=datetime.now(UTC) if received_now else created,
        )
