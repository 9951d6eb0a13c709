"""The policy file: which detector enforces each clause, at what threshold, with what action.

Another city writes its own YAML file; nothing about Windsor is hard-coded in the detectors. A bad
file fails at start-up with ``PolicyError`` naming the file, line and field, because a moderation
system that silently ignores a clause is worse than one that refuses to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_POLICY = Path(__file__).with_name("policies") / "windsor.yaml"

Action = Literal["review", "forward", "auto_hide", "log"]
ACTION_RANK: dict[str, int] = {"log": 0, "forward": 1, "review": 2, "auto_hide": 3}


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the place to fix."""


class ClauseRule(BaseModel):
    """How one clause is enforced."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(pattern=r"^\d+(\.\d+)*$")
    category: str = Field(pattern=r"^[a-z_]+$")
    detector: str
    threshold: float = Field(ge=0.0, le=1.0)
    action: Action
    kind_actions: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], Action] = Field(default_factory=dict)
    """The action for a tag of a given kind, where it differs from ``action``: a detector names the kind
    of each tag (5.7.9: an identifier private on its own is hidden at once, an unattributed contact is
    reviewed), and a city decides here what each kind does."""
    enabled: bool = True
    title: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)

    def action_for(self, kind: str | None) -> Action:
        """The action for one tag: its kind's entry in ``kind_actions``, else the rule's ``action``."""
        return self.kind_actions.get(kind, self.action) if kind else self.action


ClauseId = Annotated[str, Field(pattern=r"^\d+(\.\d+)*$")]


class ClauseUrgency(BaseModel):
    """How urgent a flag under one clause is for moderators: its rank in the queue (1 first) and how
    long it may wait before an alert (``None``: the review service's general alert age)."""

    model_config = ConfigDict(extra="forbid")

    severity: int = Field(ge=1, le=9)
    target_minutes: float | None = Field(default=None, gt=0)


class BrigadingRule(BaseModel):
    """When comments or flags on one post rise suddenly against that post's own recent past."""

    model_config = ConfigDict(extra="forbid")

    window_minutes: float = Field(default=30.0, gt=0)
    baseline_hours: float = Field(default=24.0, gt=0)
    factor: float = Field(default=5.0, ge=1.0)
    """The window's count must exceed ``factor`` times the post's mean per window (plus one)."""
    min_comments: int = Field(default=25, ge=1)
    min_flagged: int = Field(default=8, ge=1)


class ReviewRules(BaseModel):
    """The moderators' queue: urgency per clause (queue order and waiting-time targets), brigading."""

    model_config = ConfigDict(extra="forbid")

    default: ClauseUrgency = ClauseUrgency(severity=5)
    clauses: dict[ClauseId, ClauseUrgency] = Field(default_factory=dict)
    brigading: BrigadingRule = BrigadingRule()

    def urgency(self, clause: str) -> ClauseUrgency:
        return self.clauses.get(clause, self.default)


class Policy(BaseModel):
    """A whole policy: metadata plus one rule per (clause, category)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    source: str = ""
    languages: list[str] = Field(default_factory=lambda: ["en", "fr"])
    rules: list[ClauseRule]
    review: ReviewRules = ReviewRules()

    @model_validator(mode="after")
    def _unique_categories(self) -> Policy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.category in seen:
                raise ValueError(f"category {rule.category!r} appears twice")
            seen.add(rule.category)
        unknown = sorted(set(self.review.clauses) - {r.clause for r in self.rules})
        if unknown:  # a misspelt clause would silently keep the default urgency
            raise ValueError(f"review.clauses names clauses no rule enforces: {', '.join(unknown)}")
        return self

    @property
    def enabled_rules(self) -> list[ClauseRule]:
        return [r for r in self.rules if r.enabled]

    def rule_for(self, category: str) -> ClauseRule | None:
        return next((r for r in self.rules if r.category == category), None)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping value, keyed by its path."""


def _load_with_lines(text: str, path: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    lines: dict[tuple[Any, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise PolicyError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if root is None:
        raise PolicyError(f"{path}: the policy file is empty")

    def walk(node: yaml.Node, at: tuple[Any, ...]) -> None:
        lines[at] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*at, key.value)] = key.start_mark.line + 1
                walk(value, (*at, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*at, i))

    walk(root, ())
    return yaml.load(text, Loader=_LineLoader), lines


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file (the bundled Windsor policy by default)."""
    p = Path(path) if path is not None else DEFAULT_POLICY
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{p}: cannot read policy file: {exc.strerror}") from exc
    data, lines = _load_with_lines(text, str(p))
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), 1)
            field = ".".join(str(x) for x in loc) or "(top level)"
            problems.append(f"{p}:{line}: {field}: {err['msg']}")
        raise PolicyError("invalid policy file\n" + "\n".join(problems)) from exc
    from pipelines.base import DETECTORS
    from pipelines.detectors import load_all

    load_all()
    for i, rule in enumerate(policy.rules):
        if rule.detector not in DETECTORS:
            line = lines.get(("rules", i, "detector"), 1)
            known = ", ".join(sorted(DETECTORS))
            raise PolicyError(f"{p}:{line}: rules.{i}.detector: unknown detector {rule.detector!r} (known: {known})")
        kinds: tuple[str, ...] = getattr(DETECTORS[rule.detector], "kinds", ())
        for kind in rule.kind_actions:
            if kind not in kinds:  # a misspelt kind would silently keep the rule's default action
                line = lines.get(("rules", i, "kind_actions", kind), lines.get(("rules", i, "kind_actions"), 1))
                known = ", ".join(kinds) or "none"
                raise PolicyError(
                    f"{p}:{line}: rules.{i}.kind_actions.{kind}: detector {rule.detector!r} names no such kind"
                    f" (its kinds: {known})"
                )
    return policy
