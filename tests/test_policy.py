"""Policy files: the bundled one loads, and a bad one fails at start-up naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.base import ClauseDetector, Comment, register
from pipelines.pipeline import PolicyPipeline
from pipelines.policy import DEFAULT_POLICY, PolicyError, load_policy
from pipelines.types import CommentInput, Evidence, Tag


@register
class _KeywordDetector(ClauseDetector):
    """Test double: flags the word 'zorb' (score 0.9) and 'zorbish' (score 0.3)."""

    name = "test_keyword"
    version = "0"
    clause = "5.7.12"
    category = "inappropriate"

    def detect(self, comment: Comment) -> list[Tag]:
        low = comment.text.lower()
        i = low.find("zorb")
        if i < 0:
            return []
        score = 0.3 if low.startswith("zorbish", i) else 0.9
        return [self.tag(score, [Evidence(i, i + 4, "term")])]


GOOD = """\
name: test
version: "1"
rules:
  - clause: "5.7.12"
    category: inappropriate
    detector: test_keyword
    threshold: 0.5
    action: review
  - clause: "5.5"
    category: council
    detector: test_keyword
    threshold: 0.2
    action: forward
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_policy_covers_every_clause_of_5_7_and_5_5() -> None:
    policy = load_policy(DEFAULT_POLICY)
    clauses = {r.clause for r in policy.rules}
    assert {f"5.7.{i}" for i in range(1, 13)} | {"5.5"} <= clauses
    assert {r.category for r in policy.rules} >= {
        "offtopic",
        "profane",
        "discrimination",
        "sexual",
        "illegal",
        "commercial",
        "attack",
        "political",
        "safety",
        "private_info",
        "council",
    }


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (GOOD.replace("threshold: 0.5", "threshold: 1.5"), 7, "threshold"),
        (GOOD.replace("action: forward", "action: shout"), 13, "action"),
        (
            GOOD.replace("detector: test_keyword\n    threshold: 0.2", "detector: nope\n    threshold: 0.2"),
            11,
            "unknown detector 'nope'",
        ),
        (GOOD.replace('clause: "5.5"', 'clause: "five"'), 9, "clause"),
        (GOOD + "  - clause: [unclosed\n", 15, "not valid YAML"),
        (GOOD.replace("category: council", "category: inappropriate"), 1, "appears twice"),
        (GOOD.replace("    action: review\n", "    action: review\n    colour: red\n", 1), 9, "colour"),
    ],
)
def test_bad_policy_names_the_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert f"{path}:{line}:" in message
    assert fragment in message


def test_missing_and_empty_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")
    with pytest.raises(PolicyError, match="empty"):
        load_policy(write(tmp_path, ""))


def test_thresholds_and_actions_decide_flags(tmp_path: Path) -> None:
    pipeline = PolicyPipeline(write(tmp_path, GOOD))
    hit, weak, clean = pipeline.classify_batch(
        [CommentInput("That is zorb."), "zorbish indeed", CommentInput("Nice park!")]
    )
    assert hit.flags == ("council", "inappropriate")
    assert hit.action == "review"  # review outranks forward
    assert hit.flagged and hit.council
    assert weak.flags == ("council",)
    assert weak.action == "forward" and not weak.flagged
    assert clean.flags == () and clean.tags == () and clean.action is None
    assert hit.tags[0].spans[0] == Evidence(8, 12, "term")


def test_overlong_text_is_truncated_not_rejected(tmp_path: Path) -> None:
    pipeline = PolicyPipeline(write(tmp_path, GOOD))
    result = pipeline.classify("a " * 20_000 + "zorb")
    assert result.truncated
    assert result.flags == ()


def test_registered_detectors_and_the_bundled_policy_agree() -> None:
    """Every detector module registers one factory the policy uses, and every rule names one."""
    import importlib
    import pkgutil

    from spacy.language import Language

    import pipelines.detectors as package
    from pipelines.base import DETECTORS, FACTORY_PREFIX

    policy = load_policy(DEFAULT_POLICY)
    modules = {m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}
    shipped = {name: cls for name, cls in DETECTORS.items() if cls.__module__.startswith("pipelines.detectors.")}
    assert {cls.__module__.rsplit(".", 1)[1] for cls in shipped.values()} == modules
    assert len(shipped) == len(modules), "one detector per module"
    used = {r.detector for r in policy.rules}
    assert set(shipped) == used, f"unused: {set(shipped) - used}; unknown: {used - set(shipped)}"
    for name in shipped:
        assert Language.has_factory(FACTORY_PREFIX + name)
    for rule in policy.rules:
        cls = shipped[rule.detector]
        if rule.detector != "termlist":  # the term-list detector serves 5.7.10-5.7.12
            assert (cls.clause, cls.category) == (rule.clause, rule.category), rule
        assert cls.version and importlib.import_module(cls.__module__).__doc__, f"{rule.detector} needs a docstring"


def test_pipeline_exposes_findings_through_spacy_doc() -> None:
    pipeline = PolicyPipeline()
    doc = pipeline.nlp("Call me at 519-974-2213, you idiot")
    assert doc.cats["private_info"] >= 0.5
    phone = [s for s in doc.spans["private_info"] if s.label_ == "PHONE"]
    assert [s.text for s in phone] == ["519-974-2213"]


@register
class _KindDetector(ClauseDetector):
    """Test double: 'secret' is an identifier (0.9), 'phone' unattributed (0.7), 'faint' an identifier under the
    threshold (0.3); each word its own tag, as a detector that names kinds emits them."""

    name = "test_kinds"
    version = "0"
    clause = "5.7.9"
    category = "private_info"
    kinds = ("identifier", "unattributed")

    def detect(self, comment: Comment) -> list[Tag]:
        words = {"secret": ("identifier", 0.9), "phone": ("unattributed", 0.7), "faint": ("identifier", 0.3)}
        tags = []
        for word, (kind, score) in words.items():
            i = comment.text.find(word)
            if i >= 0:
                tags.append(self.tag(score, [Evidence(i, i + len(word), word.upper())], kind=kind))
        return tags


KINDS = """\
name: test
version: "1"
rules:
  - clause: "5.7.9"
    category: private_info
    detector: test_kinds
    threshold: 0.5
    action: review
    kind_actions:
      identifier: auto_hide
"""


@pytest.mark.parametrize(
    ("text", "flagged", "action"),
    [
        ("a secret", True, "auto_hide"),  # the kind's own action
        ("a phone", True, "review"),  # a kind not listed takes the rule's action
        ("a phone and a secret", True, "auto_hide"),  # the strongest action of the tags over the threshold
        ("a phone, faint", True, "review"),  # an identifier under the threshold decides nothing
        ("faint", False, None),
    ],
)
def test_each_tag_takes_the_action_of_its_kind(tmp_path: Path, text: str, flagged: bool, action: str | None) -> None:
    result = PolicyPipeline(write(tmp_path, KINDS)).classify(text)
    assert result.flagged is flagged
    assert result.action == action


def test_an_unknown_kind_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, KINDS.replace("identifier: auto_hide", "identifer: auto_hide"))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert f"{path}:10:" in str(info.value)
    assert "no such kind" in str(info.value) and "identifier, unattributed" in str(info.value)


def test_a_kind_action_must_be_an_action(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="kind_actions"):
        load_policy(write(tmp_path, KINDS.replace("identifier: auto_hide", "identifier: shout")))


def test_the_bundled_policy_hides_identifiers_and_details_of_others_and_reviews_the_rest() -> None:
    rule = load_policy(DEFAULT_POLICY).rule_for("private_info")
    assert rule is not None
    actions = {
        kind: rule.action_for(kind) for kind in ("identifier", "personal", "own", "unattributed", "private_fact")
    }
    assert actions == {
        "identifier": "auto_hide",
        "personal": "auto_hide",
        "own": "review",
        "unattributed": "review",
        "private_fact": "review",
    }
    assert rule.action_for(None) == "review"
