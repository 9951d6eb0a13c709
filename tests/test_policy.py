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
    """Test double: flags the word 'zorb' (score 0.9) and 'zorbish' (score 0.3); like the term lists it
    serves any clause, so each rule binding it states the clause and category."""

    name = "test_keyword"
    version = "0"
    clause = ""
    category = ""
    per_rule = True

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
        (GOOD.replace("category: council", "category: inappropriate"), 10, "appears twice"),
        (
            GOOD.replace('  - clause: "5.5"\n    category: council', "  - category: council"),
            9,
            "rules.1: detector 'test_keyword' serves several clauses: state the clause",
        ),
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
        if not cls.per_rule:  # the term-list detector serves 5.7.10-5.7.12
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


# --- detector settings are typed: a typo or a wrong type stops start-up at its line ----------------

SETTINGS = r"""name: test
version: "1"
rules:
  - detector: commercial
    threshold: 0.5
    action: review
    settings:
      allow_domains: [citywindsor.ca]
      repeat_window: 100
  - detector: council
    threshold: 0.5
    action: forward
    settings:
      mayor: {name: Alex Example, handles: ["@alexexample"]}
      councillors:
        - {ward: 1, name: Sam Sample}
        - {ward: 2, name: Kim Casewell, aliases: [Casewell]}
  - detector: profanity
    threshold: 0.5
    action: review
    settings:
      min_severity: moderate
  - detector: private_info
    threshold: 0.5
    action: review
    settings:
      person_names: false
  - clause: "5.7.10"
    category: ownership
    detector: termlist
    threshold: 0.5
    action: review
    settings:
      terms: [leaked photos, {pattern: 'copyright\s+\d{4}', label: claim}]
  - detector: sexual
    threshold: 0.5
    action: review
"""


def test_typed_settings_load_and_take_effect(tmp_path: Path) -> None:
    pipeline = PolicyPipeline(write(tmp_path, SETTINGS))
    assert [(r.clause, r.category) for r in pipeline.policy.rules] == [
        ("5.7.6", "commercial"),
        ("5.5", "council"),
        ("5.7.2", "profane"),
        ("5.7.9", "private_info"),
        ("5.7.10", "ownership"),
        ("5.7.4", "sexual"),
    ]
    leak, casewell, mild, moderate = pipeline.classify_batch(
        ["the leaked photos, copyright 2024", "Ask Casewell about it", "damn this road", "this road is shit"]
    )
    assert leak.flags == ("ownership",) and {s.label for s in leak.tags[0].spans} == {"term", "claim"}
    council = next(t for t in casewell.tags if t.category == "council")
    assert council.clause == "5.5" and council.extra["person"] == "Councillor, Ward 2 Kim Casewell"
    assert not any(t.category == "profane" for t in mild.tags)  # mild is under min_severity: not looked for
    assert any(t.category == "profane" for t in moderate.tags)


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        # a misspelt key names the keys the detector has, and the nearest
        (
            "allow_domains:",
            "allow_domain:",
            8,
            "rules.0.settings.allow_domain: not a setting of this detector; "
            "did you mean 'allow_domains'? (its settings: allow_domains, allow_terms, repeat_window, repeat_min)",
        ),
        (
            "repeat_window: 100",
            "repeat_window: lots",
            9,
            "rules.0.settings.repeat_window: Input should be a valid integer",
        ),
        ("repeat_window: 100", "repeat_window: -1", 9, "rules.0.settings.repeat_window: Input should be greater than"),
        (
            "allow_domains: [citywindsor.ca]",
            "allow_domains: citywindsor.ca",
            8,
            "rules.0.settings.allow_domains: Input should be a valid list",
        ),
        # nested: one councillor's misspelt key, the mayor's handles as a bare string
        ("aliases: [Casewell]", "alias: [Casewell]", 17, "rules.1.settings.councillors.1.alias: Extra inputs"),
        (
            'handles: ["@alexexample"]',
            'handles: "@alexexample"',
            14,
            "rules.1.settings.mayor.handles: Input should be a valid list",
        ),
        (
            "councillors:\n",
            "councilors:\n",
            15,
            "rules.1.settings.councilors: not a setting of this detector; did you mean 'councillors'?",
        ),
        (
            "min_severity: moderate",
            "min_severity: moderat",
            22,
            "rules.2.settings.min_severity: Input should be 'mild'",
        ),
        (
            "min_severity: moderate",
            "extra_terms: {zorblax: sever}",
            22,
            "rules.2.settings.extra_terms.zorblax: Input should be",
        ),
        (
            "person_names: false",
            "person_names: maybe",
            27,
            "rules.3.settings.person_names: Input should be a valid boolean",
        ),
        (
            "person_names: false",
            "person_name: false",
            27,
            "rules.3.settings.person_name: not a setting of this detector; did you mean 'person_names'?",
        ),
        (
            r"copyright\s+\d{4}",
            "copyright(",
            34,
            "rules.4.settings.terms.1: Value error, pattern is not a regular expression",
        ),
        ("label: claim", "term: claim", 34, "rules.4.settings.terms.1: Value error, give either term or pattern"),
        ("[leaked photos,", "[{term: leaked photos, scor: 0.5},", 34, "rules.4.settings.terms.0.scor: Extra inputs"),
        # a detector with no settings takes none
        (
            "  - detector: sexual\n    threshold: 0.5\n    action: review\n",
            "  - detector: sexual\n    threshold: 0.5\n    action: review\n    settings: {min_score: 0.3}\n",
            38,
            "rules.5.settings.min_score: not a setting of this detector (its settings: none)",
        ),
    ],
)
def test_bad_settings_name_the_file_and_line(tmp_path: Path, old: str, new: str, line: int, fragment: str) -> None:
    assert old in SETTINGS
    path = write(tmp_path, SETTINGS.replace(old, new, 1))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert f"{path}:{line}: {fragment}" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("repeat_window: 100", "repeat_window: 0"),  # 0 turns the campaign memory off
        ("min_severity: moderate", "extra_terms: [zorblax]"),  # a list: each term severe
        ("min_severity: moderate", "extra_terms: {zorblax: slur}"),
        ("person_names: false", "allow: [519-255-6100, 311]"),  # a bare number is a term like any other
        ("[leaked photos,", "[{term: leaked photos, score: 0.6, label: leak},"),
        ("{ward: 1, name: Sam Sample}", '{ward: "1", name: Sam Sample, handles: []}'),
    ],
)
def test_near_misses_of_bad_settings_load(tmp_path: Path, old: str, new: str) -> None:
    assert old in SETTINGS
    load_policy(write(tmp_path, SETTINGS.replace(old, new, 1)))


def test_every_bad_setting_is_reported_at_once(tmp_path: Path) -> None:
    text = SETTINGS.replace("allow_domains:", "allow_domain:").replace("person_names: false", "person_names: maybe")
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text))
    assert [line.split(": ", 2)[1] for line in str(info.value).splitlines()[1:]] == [
        "rules.0.settings.allow_domain",
        "rules.3.settings.person_names",
    ]


def test_a_detector_refuses_bad_settings_when_built_directly() -> None:
    from pydantic import ValidationError

    from pipelines.detectors.commercial import CommercialDetector

    with pytest.raises(ValidationError, match="allow_domain"):
        CommercialDetector({"allow_domain": ["example.org"]})


# --- a clause's number and category are stated once: by its detector ------------------------------


@pytest.mark.parametrize(
    ("stated", "line", "fragment"),
    [
        ('    clause: "5.7.40"\n', 36, "rules.5.clause: detector 'sexual' enforces clause '5.7.4', not '5.7.40'"),
        ("    category: sex\n", 36, "rules.5.category: detector 'sexual' enforces category 'sexual', not 'sex'"),
    ],
)
def test_a_rule_contradicting_its_detector_is_refused(tmp_path: Path, stated: str, line: int, fragment: str) -> None:
    path = write(tmp_path, SETTINGS.replace("  - detector: sexual\n", "  - detector: sexual\n" + stated))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert f"{path}:{line}: {fragment}" in str(info.value)


def test_a_rule_may_restate_what_its_detector_says(tmp_path: Path) -> None:
    text = SETTINGS.replace(
        "  - detector: sexual\n", '  - detector: sexual\n    clause: "5.7.4"\n    category: sexual\n'
    )
    assert load_policy(write(tmp_path, text)).rule_for("sexual") is not None


def test_the_bundled_policy_states_clauses_only_for_the_term_lists() -> None:
    """The number and category of a clause live in its detector; the file repeats neither."""
    import yaml

    from pipelines.base import DETECTORS

    rules = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))["rules"]
    for rule in rules:
        stated = {"clause", "category"} & set(rule)
        assert stated == ({"clause", "category"} if DETECTORS[rule["detector"]].per_rule else set()), rule


def test_review_urgency_for_a_clause_no_rule_enforces_is_refused_at_its_line(tmp_path: Path) -> None:
    """A misspelt clause in review.clauses would silently keep the default urgency (a threat queued late)."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    assert '    "5.7.8": {severity: 1' in text
    bad = text.replace('    "5.7.8": {severity: 1', '    "5.7.80": {severity: 1')
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if row.startswith('    "5.7.80"'))
    path = tmp_path / "policy.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert f"{path}:{line}: review.clauses.5.7.80: review.clauses names a clause no rule enforces: 5.7.80" in str(
        err.value
    )
    assert load_policy(DEFAULT_POLICY).review.urgency("5.7.8").severity == 1
