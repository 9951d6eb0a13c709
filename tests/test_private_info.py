"""5.7.9 recognisers as tables: text, expected spans and labels, near misses beside the hits."""

from __future__ import annotations

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.base import Comment
from pipelines.detectors.private_info import (
    PrivateInfoDetector,
    bc_phn_ok,
    card_ok,
    find_private,
    iban_ok,
    luhn,
    nanp_ok,
    ohip_ok,
    ramq_ok,
    sin_ok,
)
from pipelines.redact import redact_private

NLP = spacy.blank("xx")


def detect(text: str, language: str | None = None, **settings: object) -> list[tuple[str, str]]:
    """Spans of the tag the detector would raise, as (original text, label); [] under the threshold."""
    detector = PrivateInfoDetector(dict(settings))
    tags = detector.detect(Comment(NLP.make_doc(text), language=language, text=text))
    return [(text[s.start : s.end], s.label) for t in tags if t.score >= 0.5 for s in t.spans]


HITS = [
    # e-mail, plain and spelled out
    ("his email is john.smith@gmail.com", [("john.smith@gmail.com", "EMAIL")]),
    ("write to mary dot jones at hotmail dot com", [("mary dot jones at hotmail dot com", "EMAIL")]),
    ("courriel: m.tremblay@videotron.ca", [("m.tremblay@videotron.ca", "EMAIL")]),
    # North American phones, with +1, extensions, local numbers with context
    ("Call my neighbour at 519-974-2213", [("519-974-2213", "PHONE")]),
    ("her cell is (226) 555-1873", [("(226) 555-1873", "PHONE")]),
    ("text him at +1 519 974 2213", [("+1 519 974 2213", "PHONE")]),
    ("work line 519.974.2213 ext. 44", [("519.974.2213 ext. 44", "PHONE")]),
    ("call me on 974-2213 tonight", [("974-2213", "PHONE")]),
    ("Mon numéro est le 519-974-2213", [("519-974-2213", "PHONE")]),
    # Canadian postal codes
    ("mail it to N9A 5K6 please", [("N9A 5K6", "POSTAL_CODE")]),
    # street addresses, English and French
    ("She lives at 1234 Ouellette Ave", [("1234 Ouellette Ave", "STREET_ADDRESS")]),
    ("the guy at 3150 Sandwich St. W is dealing", [("3150 Sandwich St. W", "STREET_ADDRESS")]),
    ("Elle habite au 2450, boul. Saint-Laurent", [("2450, boul. Saint-Laurent", "STREET_ADDRESS")]),
    ("my address is 12 Elm Court, unit 4", [("12 Elm Court", "STREET_ADDRESS"), ("unit 4", "STREET_ADDRESS")]),
    # SIN with Luhn, cards with Luhn and issuer prefix
    ("My SIN is 130 692 544", [("130 692 544", "SIN")]),
    ("mon NAS: 130-692-544", [("130-692-544", "SIN")]),
    ("card 4111 1111 1111 1111 exp 12/29", [("4111 1111 1111 1111", "CREDIT_CARD")]),
    ("amex 378282246310005", [("378282246310005", "CREDIT_CARD")]),
    # bank accounts: Canadian transit/institution/account and IBAN
    ("deposit to 12345-003-1234567 account please", [("12345-003-1234567", "BANK_ACCOUNT")]),
    ("Transit 12345, institution 003, account 1234567", [("12345", "BANK_ACCOUNT"), ("1234567", "BANK_ACCOUNT")]),
    ("IBAN GB82 WEST 1234 5698 7654 32", [("GB82 WEST 1234 5698 7654 32", "IBAN")]),
    # health cards: Ontario, Quebec, British Columbia
    ("His OHIP number is 1234-567-897 AB", [("1234-567-897 AB", "HEALTH_CARD")]),
    ("carte soleil TREM 8503 1512", [("TREM 8503 1512", "HEALTH_CARD")]),
    ("BC personal health number 9698 658 215", [("9698 658 215", "HEALTH_CARD")]),
    # passport, driver's licence, date of birth, IP, plates
    ("passport number AB123456", [("AB123456", "PASSPORT")]),
    ("DL A1234-56789-01234", [("A1234-56789-01234", "DRIVERS_LICENCE")]),
    ("Born on March 3, 1985 in Windsor", [("March 3, 1985", "DATE_OF_BIRTH")]),
    ("née le 3 mars 1985", [("3 mars 1985", "DATE_OF_BIRTH")]),
    ("Their IP was 24.114.32.80", [("24.114.32.80", "IP_ADDRESS")]),
    ("His plate is CBRT 123, he parks on my lawn", [("CBRT 123", "LICENCE_PLATE")]),
]


@pytest.mark.parametrize(("text", "expected"), HITS)
def test_recognisers_find_each_type(text: str, expected: list[tuple[str, str]]) -> None:
    assert detect(text) == expected


NEAR_MISSES = [
    "SIN 130 692 545 fails the checksum",
    "SIN 046 454 286 starts with 0: never issued to a person",
    "card 4111 1111 1111 1112 fails Luhn",
    "The meeting is at 7 pm on March 3, 2026",
    "Call 311 or 519-255-6100 for the city",
    "Contact me at 226-555-0123",  # 555-01xx numbers are reserved for fiction
    "Call 1-800-668-6868, kids help phone",  # toll-free lines belong to organisations
    "There's a huge pothole in front of 1234 Ouellette Ave",  # a place, not someone's home
    "The budget is 2 500 000 $ this year",
    "Population grew from 217,188 to 229,660",
    "I paid $1,250,000 for my house",
    "In 2019 Dougall Ave was repaved",
    "The 2 lane road is a 5 minute drive from here",
    "Order #519-974-2213 hasn't arrived",
    "version 1.2.3.4 of the app crashes",
    "Route 3 and Highway 401 are both closed",
    "my health card is coming in the mail",  # a context word alone is no number
    "Meeting at 350 City Hall Square West",
    "Windsor Regional has a new cancer centre",
    "timestamp 2024-03-05 14:22:01",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_stay_clean(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (luhn, "79927398713", "79927398710"),
        (sin_ok, "130 692 544", "130 692 545"),
        (card_ok, "4111-1111-1111-1111", "9111-1111-1111-1111"),  # 9 is no issuer prefix
        (ohip_ok, "1234567897", "1234567890"),
        (bc_phn_ok, "9698658215", "9698658216"),
        (ramq_ok, "TREM 8553 1512", "TREM 8513 1512"),  # month 55 = May for a woman; 13 is no month
        (iban_ok, "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01"),
        (nanp_ok, "519-974-2213", "519-174-2213"),  # an exchange never starts with 1
    ],
)
def test_checksums_and_formats(validator: object, good: str, bad: str) -> None:
    assert callable(validator)
    assert validator(good) is True
    assert validator(bad) is False


@pytest.mark.parametrize(
    ("text", "raised"),
    [
        ("phone 4165551234", True),  # bare digits need a context word...
        ("ref 4165551234", False),  # ...and a reference-number word lowers them
        ("account number 1234567", True),
        ("model 1234567", False),
    ],
)
def test_context_words_raise_and_lower(text: str, raised: bool) -> None:
    assert bool(detect(text)) is raised


def test_service_request_address_is_lowered_but_a_home_is_not() -> None:
    assert detect("pothole outside 2000 Howard Ave") == []
    assert detect("she lives at 2000 Howard Ave") == [("2000 Howard Ave", "STREET_ADDRESS")]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("We live at 114 Elm Street and are upset about the water leaks", "114 Elm Street"),
        ("The drain in front of my house at 2909 Ryan Ct is caving in all around", "2909 Ryan Ct"),
        ("Elle reste au 1234 rue Ouellette depuis que les travaux ont commencé", "1234 rue Ouellette"),
        ("Send it to 1440 Lincoln Rd Apt 7", "1440 Lincoln Rd Apt 7"),
    ],
)
def test_a_cued_address_ends_where_the_street_does(text: str, span: str) -> None:
    """A home cue ("we live at") reads up to the next punctuation; when a street-shaped address sits
    in that stretch, the span stops with it, so the highlight and the redaction do not take the rest
    of the sentence."""
    assert (span, "STREET_ADDRESS") in detect(text), detect(text)
    assert all(len(found) <= len(span) for found, label in detect(text) if label == "STREET_ADDRESS")


def test_a_pasted_postal_address_block_is_found() -> None:
    text = "Send it to me:\nJane Roe\n1440 Lincoln Rd\nApt 7\nWindsor ON N8Y 2J4"
    found = {label for _, label in detect(text)}
    assert {"STREET_ADDRESS", "POSTAL_CODE"} <= found


@pytest.mark.parametrize("code", ["53-320", "7188", "394 13", "7412 SL", "SW1A 1AA"])
def test_the_postal_code_closing_an_address_block_is_found_in_any_country_shape(code: str) -> None:
    text = f"Deliver to 12 Koskikatu Apt. 5\n   Lappeenranta\n    {code}"
    assert any(code in span for span, _ in detect(text)), detect(text)


def test_a_number_ending_a_line_is_no_postal_code_without_an_address_before_it() -> None:
    assert detect("Meeting moved to room\n7188") == []


def test_a_short_code_inside_an_allowed_public_number_is_still_private() -> None:
    assert detect("my zip code is 610", allow=["519-255-6100"]) == [("610", "ZIP_CODE")]


def test_a_failed_checksum_is_never_its_type() -> None:
    assert "IBAN" not in {label for _, label in detect("IBAN GB82 WEST 1234 5698 7654 33")}
    assert "SIN" not in {label for _, label in detect("SIN 130 692 545")}


def test_allowlist_comes_from_the_policy_settings() -> None:
    assert detect("call 519-974-2213", allow=["519-974-2213"]) == []
    assert detect("Call 311 or 519-255-6100", allow=[]) == [("519-255-6100", "PHONE")]


@pytest.mark.parametrize(
    ("text", "language", "name"),
    [
        ("John Smith is on welfare and drinks all day", "en", "John Smith"),
        ("Jean Tremblay a le cancer, priez pour lui", "fr", "Jean Tremblay"),
    ],
)
def test_a_name_with_a_private_fact_is_private(text: str, language: str, name: str) -> None:
    found = detect(text, language)
    assert (name, "PERSON") in found
    assert any(label == "PRIVATE_FACT" for _, label in found)


@pytest.mark.parametrize(
    "text",
    ["Windsor Regional has a cancer centre", "John Smith won the chili cook-off", "The mayor has a cold"],
)
def test_names_or_facts_alone_are_not(text: str) -> None:
    assert detect(text, "en") == []


def test_names_are_left_to_ner_only_when_they_can_change_the_answer() -> None:
    calls: list[str] = []

    def names(text: str) -> list[tuple[int, int]]:
        calls.append(text)
        return [(0, 10)]

    assert [f.label for f in find_private("John Smith has cancer, call 519-974-2213", names)] == ["PHONE"]
    assert calls == []  # a phone already decides; the costly name finder never ran
    assert "PERSON" in [f.label for f in find_private("John Smith has cancer", names)]


def test_redaction_replaces_every_span_with_its_type() -> None:
    text = "Email jane.doe@gmail.com or call 519-974-2213; she lives at 1234 Ouellette Ave, N9A 5K6"
    assert redact_private(text) == ("Email <EMAIL> or call <PHONE>; she lives at <STREET_ADDRESS>, <POSTAL_CODE>")
    assert redact_private("Jean Tremblay a le cancer", "fr") == "<PERSON> a le cancer"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_spans_stay_inside_any_text(text: str) -> None:
    for f in find_private(text):
        assert 0 <= f.start < f.end <= len(text)
        assert 0.0 < f.score <= 1.0


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.from_regex(r"[a-z][a-z0-9._]{0,15}[a-z0-9]@[a-z]{2,10}\.(com|ca|org|net)", fullmatch=True),
)
def test_redacted_text_holds_no_email(prefix: str, email: str) -> None:
    assert email not in redact_private(f"{prefix} {email} ", names=False)
