"""Clause 5.6: the city's own posts carry no confidential information (``civicwatch check-post``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicwatch.cli import app
from pipelines.confidential import PostChecker
from pipelines.policy import load_policy


@pytest.fixture(scope="module")
def checker() -> PostChecker:
    return PostChecker(load_policy())


# text, expected findings as (clause, label, evidence text); near misses beside the hits
CASES: list[tuple[str, list[tuple[str, str, str]]]] = [
    # a staff member's direct line and extension
    (
        "Questions? Reach Dana Whitfield at 519-973-4821.",
        [("5.7.9", "PHONE", "519-973-4821")],
    ),
    ("Call the main line, 519-255-6100 ext. 4321, for details.", [("5.6", "STAFF_EXTENSION", "ext. 4321")]),
    ("Parks staff can be reached at extension 2210.", [("5.6", "STAFF_EXTENSION", "extension 2210")]),
    ("Phone x4321 for bookings.", [("5.6", "STAFF_EXTENSION", "x4321")]),
    # release markers and internal project names
    (
        "DRAFT - not for release until Monday.",
        [("5.6", "CONFIDENTIAL_TERM", "DRAFT"), ("5.6", "CONFIDENTIAL_TERM", "not for release")],
    ),
    (
        "Project Placeholder Alpha starts in the spring (internal only).",
        [("5.6", "CONFIDENTIAL_TERM", "Project Placeholder Alpha"), ("5.6", "CONFIDENTIAL_TERM", "internal only")],
    ),
    ("The draft budget is online; the draft version of the memo is attached.", [("5.6", "CONFIDENTIAL_TERM", "draft")]),
    ("Document de travail - ne pas diffuser.", [("5.6", "CONFIDENTIAL_TERM", "ne pas diffuser")]),
    # a staff member's health, a personal e-mail address (the 5.7.9 detector's own findings)
    (
        "Our colleague John Smith is off work with cancer.",
        [("5.7.9", "PERSON", "John Smith"), ("5.7.9", "PRIVATE_FACT", "with cancer")],
    ),
    ("Questions? Write to jane.doe@gmail.com", [("5.7.9", "EMAIL", "jane.doe@gmail.com")]),
    # near misses: the city's published contacts, public documents called draft, look-alike numbers
    ("Snow clearing questions? Call 311 or 519-255-6100, or visit citywindsor.ca.", []),
    ("Have your say: the draft bylaw consultation runs until June 30 at 350 City Hall Square.", []),
    ("Read the draft Official Plan and the draft zoning by-law before the meeting.", []),
    ("Congratulations to the Windsor Spitfires on the OHL draft!", []),
    ("Ouellette Ave is closed at 1234 Ouellette Ave until Friday for water main repairs.", []),
    ("Our free, confidential counselling line is open to all residents.", []),
    ("Box 1234 holds 4x4 signs; Local 543 members are welcome.", []),
    ("Le projet de règlement est en ligne.", []),
    ("Pour plus d’information, composez le 311.", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_post_findings(checker: PostChecker, text: str, expected: list[tuple[str, str, str]]) -> None:
    found = checker.check(text)
    assert [(f.clause, f.label, f.text) for f in found] == expected
    for f in found:
        assert text[f.start : f.end] == f.text


def test_the_policy_file_lists_public_contacts_for_posts(tmp_path: Path) -> None:
    """A facility's number the city publishes passes once the policy lists it, and only then."""
    text = "Book the pool at 519-973-4821."
    assert PostChecker(load_policy()).check(text)
    policy = load_policy().model_copy(deep=True)
    policy.confidential.public_contacts.append("519-973-4821")
    assert PostChecker(policy).check(text) == []


runner = CliRunner()


def test_check_post_fails_a_draft_with_a_staff_phone_number(tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(
        "Pool hours change Monday.\nQuestions: Dana Whitfield, 519-973-4821 ext. 4321.\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["check-post", str(draft)])
    assert result.exit_code == 1, result.output
    assert "5.6    STAFF_EXTENSION" in result.output
    assert "(line 2): 'ext. 4321'" in result.output
    assert "5.7.9" in result.output


def test_check_post_passes_a_clean_announcement_from_stdin() -> None:
    result = runner.invoke(app, ["check-post", "-", "--json"], input="Leaf collection starts Monday. Call 311.\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"clean": True, "findings": []}


def test_check_post_json_gives_offsets() -> None:
    text = "Not for release: budget figures."
    result = runner.invoke(app, ["check-post", "-", "--json"], input=text)
    assert result.exit_code == 1
    (finding,) = json.loads(result.output)["findings"]
    assert (finding["clause"], finding["start"], finding["end"], finding["text"]) == ("5.6", 0, 15, "Not for release")


@pytest.mark.parametrize("content", [b"", b"   \n", b"\xff\xfe not utf-8 \x80"])
def test_check_post_refuses_bad_input(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "post.txt"
    path.write_bytes(content)
    assert runner.invoke(app, ["check-post", str(path)]).exit_code == 2


def test_check_post_refuses_a_missing_file(tmp_path: Path) -> None:
    assert runner.invoke(app, ["check-post", str(tmp_path / "none.txt")]).exit_code == 2
