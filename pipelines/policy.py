"""The policy file: which detector enforces each clause, at what threshold, with what action.

Another city writes its own YAML file; nothing about Windsor is hard-coded in the detectors. A bad
file fails at start-up with ``PolicyError`` naming the file, line and field, because a moderation
system that silently ignores a clause is worse than one that refuses to start.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
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
    """How one clause is enforced.

    The clause and category are the detector's (``ClauseDetector.clause``/``category``): the file
    leaves them out and ``load_policy`` fills them in. Only a rule binding a detector that serves
    several clauses (``per_rule``, the term lists) states them; stating another detector's differently
    is refused."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field("", pattern=r"^\d+(\.\d+)*$")
    category: str = Field("", pattern=r"^[a-z_]+$")
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
    """The detector's settings, checked against its ``settings_model`` at load."""

    def action_for(self, kind: str | None) -> Action:
        """The action for one tag: its kind's entry in ``kind_actions``, else the rule's ``action``."""
        return self.kind_actions.get(kind, self.action) if kind else self.action


class ConfidentialPattern(BaseModel):
    """A shape of confidential text no phrase list can hold (a staff extension), as a regex."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(pattern=r"^[A-Z_]+$")
    regex: str


class ConfidentialList(BaseModel):
    """Clause 5.6: what must never appear in the city's own posts (checked by ``pipelines.confidential``).

    ``terms`` are plain phrases matched as whole words, whatever the case; ``allow`` holds regexes of
    public uses that contain a term ("draft by-law consultation"); ``public_contacts`` are numbers and
    addresses the city publishes, so a post may give them (added to the 5.7.9 rule's own list).
    """

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(default="5.6", pattern=r"^\d+(\.\d+)*$")
    terms: list[str] = Field(default_factory=list)
    patterns: list[ConfidentialPattern] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    public_contacts: list[str] = Field(default_factory=list)


RecordType = Literal["comments", "tags", "review_items", "decisions", "actions", "audit", "dead_letters"]
RECORD_TYPES: tuple[RecordType, ...] = (
    "comments",
    "tags",
    "review_items",
    "decisions",
    "actions",
    "audit",
    "dead_letters",
)
_UNIT_DAYS = {"d": 1, "w": 7, "y": 365}


class RetentionRule(BaseModel):
    """How long one record type is kept (``90d``, ``52w``, ``7y``) and the by-law line that says so."""

    model_config = ConfigDict(extra="forbid")

    keep: str = Field(pattern=r"^[1-9]\d*[dwy]$")
    note: str = ""

    @property
    def days(self) -> int:
        return int(self.keep[:-1]) * _UNIT_DAYS[self.keep[-1]]

    @property
    def seconds(self) -> float:
        return self.days * 86400.0


class Retention(BaseModel):
    """Clause 6.2: every record type's retention period under the city's retention by-law.

    Every type must be listed: a record type without a period would be kept for ever by default.
    """

    model_config = ConfigDict(extra="forbid")

    bylaw: str = ""
    set_by_city: bool = False
    """False while the periods are the project's defaults; the city's records officer sets them."""
    records: dict[RecordType, RetentionRule]

    @model_validator(mode="after")
    def _every_type(self) -> Retention:
        missing = [t for t in RECORD_TYPES if t not in self.records]
        if missing:
            raise ValueError(f"no retention period for {', '.join(missing)}")
        return self


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
    contacts: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Clause 5.5: who receives a forwarded comment, by the name the council detector gives; read and
    checked by the forwarder (``connectors/forward.py``), which no detector needs."""
    acknowledgement: dict[str, Any] = Field(default_factory=dict)
    """Clause 5.5: the reply templates per language and whether replies wait for approval (forwarder)."""
    confidential: ConfidentialList = Field(default_factory=ConfidentialList)
    retention: Retention | None = None
    """None: the topics keep their declared retention and the review store keeps rows for ever."""
    review: ReviewRules = ReviewRules()

    @property
    def enabled_rules(self) -> list[ClauseRule]:
        return [r for r in self.rules if r.enabled]

    def rule_for(self, category: str) -> ClauseRule | None:
        return next((r for r in self.rules if r.category == category), None)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping value, keyed by its path: the line of its key,
    so a problem with a block value (a list of councillors, a misspelt section) points at its name."""


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
        lines.setdefault(at, node.start_mark.line + 1)
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
    problems = _bind_detectors(policy, lines, str(p))
    if problems:
        raise PolicyError("invalid policy file\n" + "\n".join(problems))
    return policy


def _bind_detectors(policy: Policy, lines: dict[tuple[Any, ...], int], path: str) -> list[str]:
    """Give each rule its detector's clause and category and check its settings and kinds against the
    detector; the problems found, each as ``file:line: field: what``."""
    from pipelines.base import DETECTORS
    from pipelines.detectors import load_all

    load_all()

    def at(*loc: Any) -> str:
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), 1)
        return f"{path}:{line}: " + ".".join(str(x) for x in loc)

    problems: list[str] = []
    categories: dict[str, int] = {}
    for i, rule in enumerate(policy.rules):
        cls = DETECTORS.get(rule.detector)
        if cls is None:
            known = ", ".join(sorted(DETECTORS))
            problems.append(f"{at('rules', i, 'detector')}: unknown detector {rule.detector!r} (known: {known})")
            continue
        for key in ("clause", "category"):
            own: str = getattr(cls, key)
            stated: str = getattr(rule, key)
            if cls.per_rule and not stated:
                problems.append(f"{at('rules', i)}: detector {rule.detector!r} serves several clauses: state the {key}")
            elif not cls.per_rule and stated and stated != own:
                problems.append(
                    f"{at('rules', i, key)}: detector {rule.detector!r} enforces {key} {own!r}, not {stated!r}"
                    " (the detector states it: leave the key out)"
                )
            elif not cls.per_rule:
                setattr(rule, key, own)
        if rule.category in categories:
            problems.append(f"{at('rules', i, 'category')}: category {rule.category!r} appears twice")
        categories.setdefault(rule.category, i)
        problems += _settings_problems(cls.settings_model, rule.settings, ("rules", i, "settings"), at)
        kinds: tuple[str, ...] = getattr(cls, "kinds", ())
        for kind in rule.kind_actions:
            if kind not in kinds:  # a misspelt kind would silently keep the rule's default action
                problems.append(
                    f"{at('rules', i, 'kind_actions', kind)}: detector {rule.detector!r} names no such kind"
                    f" (its kinds: {', '.join(kinds) or 'none'})"
                )
    enforced = {rule.clause for rule in policy.rules}
    for clause in sorted(set(policy.review.clauses) - enforced):  # a misspelt clause would keep the default urgency
        problems.append(f"{at('review', 'clauses', clause)}: review.clauses names a clause no rule enforces: {clause}")
    return problems


def _settings_problems(
    model: type[BaseModel], settings: dict[str, Any], where: tuple[Any, ...], at: Callable[..., str]
) -> list[str]:
    """Each way ``settings`` fails the detector's model, at the line of the key at fault; a key the
    model does not know names the keys it does (and the nearest, for a typo)."""
    try:
        model.model_validate(settings)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = err["msg"]
            if err["type"] == "extra_forbidden" and len(loc) == 1:
                fields = list(model.model_fields)
                near = difflib.get_close_matches(str(loc[0]), fields, n=1)
                message = "not a setting of this detector" + (f"; did you mean {near[0]!r}?" if near else "")
                message += f" (its settings: {', '.join(fields) or 'none'})"
            problems.append(f"{at(*where, *loc)}: {message}")
        return problems
    return []
