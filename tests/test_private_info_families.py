"""5.7.9 by table: each identifier family (hits, near misses, obfuscations), and the kind and action of
each finding, since the clause is about people, not places."""

from __future__ import annotations

import pytest
import spacy

from pipelines.base import Comment
from pipelines.detectors.private_info import (
    PrivateInfoDetector,
    aba_ok,
    base58check_ok,
    bech32_ok,
    dea_ok,
    find_private,
    iban_ok,
    itin_ok,
    mac_ok,
)
from pipelines.pipeline import PolicyPipeline

NLP = spacy.blank("xx")


def detect(text: str) -> list[tuple[str, str]]:
    """(text, label) of every span in a tag at or over the threshold."""
    tags = PrivateInfoDetector({}).detect(Comment(NLP.make_doc(text), text=text))
    return [(text[s.start : s.end], s.label) for t in tags if t.score >= 0.5 for s in t.spans]


FAMILIES = [
    # IPv4 and IPv6 in every written form: compressed, embedded IPv4, bracketed with a port, CIDR
    ("Their IP was 24.114.32.80.", [("24.114.32.80", "IP_ADDRESS")]),
    ("connected from 142.250.72.14 last night", [("142.250.72.14", "IP_ADDRESS")]),
    ("my ip: 684D:1111:222:3333:4444:5555:6:77", [("684D:1111:222:3333:4444:5555:6:77", "IP_ADDRESS")]),
    ("server 2607:f8b0:4004:c07::64 keeps banning me", [("2607:f8b0:4004:c07::64", "IP_ADDRESS")]),
    ("tunnel to 2607:f8b0::142.250.72.14", [("2607:f8b0::142.250.72.14", "IP_ADDRESS")]),
    ("connect to [2607:f8b0:4004:c07::64]:443", [("2607:f8b0:4004:c07::64", "IP_ADDRESS")]),
    ("blocked range 24.114.32.0/24", [("24.114.32.0/24", "IP_ADDRESS")]),
    # MAC addresses: colons, dashes (lower case), Cisco dots
    ("my laptop's MAC is 00:1A:2B:3C:4D:5E", [("00:1A:2B:3C:4D:5E", "MAC_ADDRESS")]),
    ("router 00-1a-2b-3c-4d-5e", [("00-1a-2b-3c-4d-5e", "MAC_ADDRESS")]),
    ("switch port 001a.2b3c.4d5e", [("001a.2b3c.4d5e", "MAC_ADDRESS")]),
    # crypto wallets: Bitcoin legacy, script and segwit (either case), Ethereum
    ("send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT", [("1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "CRYPTO_WALLET")]),
    ("donate 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", [("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "CRYPTO_WALLET")]),
    (
        "wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        [("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "CRYPTO_WALLET")],
    ),
    ("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", [("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "CRYPTO_WALLET")]),
    (
        "eth 0x742d35Cc6634C0532925a3b844Bc454e4438f44e",
        [("0x742d35Cc6634C0532925a3b844Bc454e4438f44e", "CRYPTO_WALLET")],
    ),
    # US driver's licences (formats vary by state: a licence word is required), passports, ITIN
    ("his driver's license D1234567", [("D1234567", "DRIVERS_LICENCE")]),
    ("Washington driver licence WDLABCD456DG", [("WDLABCD456DG", "DRIVERS_LICENCE")]),
    ("DL# 482913756", [("482913756", "DRIVERS_LICENCE")]),
    ("US passport C03005988", [("C03005988", "PASSPORT")]),
    ("ITIN 912-78-1234", [("912-78-1234", "ITIN")]),
    ("my itin is 912781234", [("912781234", "ITIN")]),
    # ABA routing numbers (checksum and a routing word), medical licences (DEA checksum, or a licence word)
    ("routing number 011000015", [("011000015", "ROUTING_NUMBER")]),
    ("ABA 121000358", [("121000358", "ROUTING_NUMBER")]),
    ("DEA number BB1388568", [("BB1388568", "MEDICAL_LICENCE")]),
    ("CPSO registration number 12345", [("12345", "MEDICAL_LICENCE")]),
    # IBANs in any layout: dashes, lower case run together, groups of four with a short last group
    ("IBAN: DE89-3704-0044-0532-0130-00", [("DE89-3704-0044-0532-0130-00", "IBAN")]),
    ("iban gb82west12345698765432 please", [("gb82west12345698765432", "IBAN")]),
    ("FR76 3000 6000 0112 3456 7890 189", [("FR76 3000 6000 0112 3456 7890 189", "IBAN")]),
    ("NL91 ABNA 0417 1643 00, thanks", [("NL91 ABNA 0417 1643 00", "IBAN")]),
]


@pytest.mark.parametrize(("text", "expected"), FAMILIES)
def test_each_identifier_family_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert detect(text) == expected


NEAR_MISSES = [
    "Time 12:34:56",  # colons, but no IPv6 address
    "Ratio 1:2:3:4",
    "use std::cout here",
    "192.168.1.256 is wrong",  # an octet over 255
    "the meeting is at 10:30:45",
    "see section 4.3.2.1",  # dotted single digits: an outline number
    "v2.10.3.1 broke it",
    "firmware 10.4.22.1 is out",
    "order 1BoatSLRHtKNngkdXEeobR76b53LETtpyU",  # one character off: the base58 checksum fails
    "0x0000000000000000000000000000000000000000",
    "routing number 121000359",  # ABA checksum fails
    "ref 011000015",  # a valid routing number with no routing word is just a number
    "DEA number BB1388569",  # DEA check digit fails
    "ITIN 912-89-1234",  # 89 is no ITIN group, and no phone either
    "IBAN DE89 3704 0044 0532 0130 01",  # mod-97 fails
    "Order DE8937040044 shipped",  # too short for a German IBAN
    "Service request 23-00451234 was closed",
    "Order #1234567890 arrived",
    "Tracking 1Z999AA10123456784 arrived",
    "open 9:00-17:00",
    "it cost $1,250.00",
    "the MAC and cheese was 12.99",
    "the 2300-2340 block of Dougall is dark",  # a range of house numbers
    "at 42.317432, -83.026772",  # coordinates
    "311 ticket number 58203114",
    "Roll numbers 3739 020 450 & 3739 020 455 on the tax bill",
    "my driver's licence renewal is due in 2026",
    "meet me at Tim Hortons at 7",  # a cue word and a number, but no house number beside a street name
    "home router 192.168.0.1",  # a private address identifies no one
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_stay_clean(text: str) -> None:
    assert detect(text) == []


def test_non_public_ip_addresses_are_found_for_redaction_but_never_flag() -> None:
    for text, ip in [("Loopback ::1", "::1"), ("gateway fe80::1%eth0", "fe80::1%eth0"), ("lan 10.0.0.1", "10.0.0.1")]:
        found = [(text[f.start : f.end], f.score) for f in find_private(text)]
        assert [span for span, _ in found] == [ip]
        assert all(score < 0.5 for _, score in found)


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (aba_ok, "011000015", "011000016"),
        (aba_ok, "121000358", "991000358"),  # 99 is no Federal Reserve prefix
        (dea_ok, "BB1388568", "BB1388569"),
        (itin_ok, "912-78-1234", "912-89-1234"),
        (base58check_ok, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "1BoatSLRHtKNngkdXEeobR76b53LETtpyU"),
        (bech32_ok, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"),
        (bech32_ok, "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "bc1qar0srrr7xfkvy5L643lydnw9re59gtzzwf5mdq"),
        (mac_ok, "00:1a:2b:3c:4d:5e", "ff:ff:ff:ff:ff:ff"),
        (mac_ok, "00-1a-2b-3c-4d-5e", "12-34-56-78-90-12"),  # digits and dashes alone could be anything
        (iban_ok, "gb82 west 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 3"),  # a character short for GB
    ],
)
def test_checksums(validator: object, good: str, bad: str) -> None:
    assert callable(validator)
    assert validator(good) is True
    assert validator(bad) is False


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


KINDS = [
    # private on its own, whoever it belongs to: hidden at once
    ("My SIN is 130 692 544, is that needed for the form?", "identifier", "auto_hide"),
    ("IBAN DE89 3704 0044 0532 0130 00 for the refund", "identifier", "auto_hide"),
    # a contact detail or home tied to another person: hidden at once
    ("He lives at 12 Elm St", "personal", "auto_hide"),
    ("Call John at 519-974-2213 about the fence", "personal", "auto_hide"),
    ("My neighbour's cell is 519-974-2213, call him about the fence", "personal", "auto_hide"),
    ("The guy at 3150 Sandwich St. W is dealing", "personal", "auto_hide"),
    ("Son numéro est le 519-974-2213", "personal", "auto_hide"),
    ("Elle habite au 2450, boul. Saint-Laurent", "personal", "auto_hide"),
    ("He's at 1234 Ouellette Ave every night", "personal", "auto_hide"),
    ("John Smith, 1234 Ouellette Ave", "personal", "auto_hide"),
    # the writer's own: a moderator decides
    ("Call me at 519-974-2213 about the leak", "own", "review"),
    ("I live at 1234 Ouellette Ave and the snow was never plowed", "own", "review"),
    ("Mon numéro est le 519-974-2213", "own", "review"),
    ("Born on March 3, 1985, can I get the seniors discount?", "own", "review"),
    ("Please pass this on to her. Thanks, Marta Kowalski, 77 Rosedale Cres", "own", "review"),
    # owner unknown, or not a person's: a moderator decides
    ("jane.doe@gmail.com", "unattributed", "review"),
    ("Call Windsor Police at 519-258-6111 if you see him", "unattributed", "review"),  # an organisation's line
    ("3381 Riverside Dr W, Windsor ON N9A 5K6", "unattributed", "review"),
    ("Send the refund to 1440 Lincoln Rd, Windsor ON N8Y 2J4", "unattributed", "review"),
    ("Meet me at 1234 Ouellette Ave, bring the papers", "unattributed", "review"),
    ("Donations: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "unattributed", "review"),
    ("His plate is CBRT 123, he parks on my lawn", "unattributed", "review"),
    ("Jean Tremblay a le cancer, priez pour lui", "private_fact", "review"),
    ("She was born on 9/20/1968 in Windsor", "private_fact", "review"),
]


@pytest.mark.parametrize(("text", "kind", "action"), KINDS)
def test_each_finding_carries_its_kind_and_the_policy_its_action(
    pipeline: PolicyPipeline, text: str, kind: str, action: str
) -> None:
    result = pipeline.classify(text)
    assert "private_info" in result.flags
    best = max((t for t in result.tags if t.category == "private_info"), key=lambda t: t.score)
    assert best.extra["kind"] == kind
    assert best.detail.startswith(f"{kind}: ")
    assert result.action == action


PLACES = [
    "The water main is leaking in front of 1234 Oak Ave",
    "The lot next to 55 Elm St is full of trash",
    "Trash in front of 6 Elm St was never picked up",
    "Two potholes near 415 Partington Ave and 433 Partington Ave",
    "Corner of Ouellette and Wyandotte, the street light is out",
    "Is the library at 850 Ouellette Ave open on Sunday?",
    "Sorry, the right spot is 980 Erie St E",
    "1765 Lincoln Rd",
    "Graffiti on the hydro box at 3170 Walker Rd, Windsor ON N8W 3P6",
    "Weeds waist high at the empty house, 872 Bruce Ave, N9A 4X4",
    "Neighbours at 58 Byng Rd have also reported this sinkhole in the road",
    "The streetlight pole outside Unit 4, 3150 Sandwich St is down",
    "Banwell Road, 2811 Main St",  # a street name is not a person's name
]


@pytest.mark.parametrize("text", PLACES)
def test_the_place_of_a_public_problem_is_not_flagged(pipeline: PolicyPipeline, text: str) -> None:
    result = pipeline.classify(text)
    assert "private_info" not in result.flags, [t.as_dict() for t in result.tags]


def test_a_place_still_has_its_spans_for_redaction() -> None:
    text = "The water main is leaking in front of 1234 Oak Ave"
    assert [(text[f.start : f.end], f.kind) for f in find_private(text)] == [("1234 Oak Ave", "place")]
