"""5.7.9 Content that reveals personal or private information about a person (MFIPPA).

Recognisers for contact details and identifiers, each span labelled with its type: EMAIL, PHONE,
POSTAL_CODE, ZIP_CODE, STREET_ADDRESS, SIN, SSN, CREDIT_CARD, BANK_ACCOUNT, IBAN, HEALTH_CARD,
DRIVERS_LICENCE, PASSPORT, DATE_OF_BIRTH, IP_ADDRESS, LICENCE_PLATE and PERSON (a name next to
private facts). Numbers with checksums (SIN, cards, IBAN) are validated, so random digit runs do
not fire. Context words raise or lower scores: a date is private only next to "born"/"DOB"; the
city's own public contacts (settings ``allow``) and documented fake numbers (555-01xx) are not
private. A cheap pre-filter (a digit, an "@" or an "at") skips most comments in microseconds.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pipelines.base import ClauseDetector, Comment, register
from pipelines.types import Evidence, Tag

SCORES = {
    "EMAIL": 0.9,
    "PHONE": 0.85,
    "CREDIT_CARD": 0.95,
    "SIN": 0.95,
    "SSN": 0.9,
    "IBAN": 0.95,
    "BANK_ACCOUNT": 0.85,
    "STREET_ADDRESS": 0.8,
    "POSTAL_CODE": 0.6,
    "ZIP_CODE": 0.55,
    "IP_ADDRESS": 0.7,
    "DATE_OF_BIRTH": 0.45,
    "HEALTH_CARD": 0.9,
    "DRIVERS_LICENCE": 0.85,
    "PASSPORT": 0.8,
    "LICENCE_PLATE": 0.55,
    "PERSON": 0.3,
}

_EMAIL = re.compile(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b")
_EMAIL_OBF = re.compile(
    r"(?i)\b[a-z0-9._%+-]+\s*(?:\[at\]|\(at\)|\s+at\s+|\{at\})\s*[a-z0-9-]+\s*(?:\[dot\]|\(dot\)|\s+dot\s+|\.)\s*(?:com|ca|net|org|fr|qc\.ca|on\.ca)\b"
)
_PHONE = re.compile(
    r"(?<![\w/.-])(?:\+\d{1,3}[\s.-]?)?(?:\(0\)\s?)?(?:\(\d{1,4}\)[\s.-]?|\d{1,4}[\s.-]?)(?:\d{2,4}[\s.-]?){1,4}\d{2,4}(?:\s?(?:x|ext\.?|poste)\s?\d{1,5})?(?![\w/-])"
)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])")
_SIN = re.compile(r"(?<![\d-])\d{3}[ -]?\d{3}[ -]?\d{3}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_IBAN = re.compile(r"(?i)\b[a-z]{2}\d{2}(?:\s?[a-z0-9]{4}){2,7}\s?[a-z0-9]{1,4}\b")
_POSTAL = re.compile(r"(?i)\b[abceghj-nprstvxy]\d[abceghj-nprstv-z][ -]?\d[abceghj-nprstv-z]\d\b")
_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
_ZIP_LABELLED = re.compile(
    r"(?i:zip(?: ?code)?|postal code|post code|code postal)(?:\s*(?:is|:|=))?\s*([A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?)\b"
)
_ISO_DATE = re.compile(r"\b(?:19|20)\d\d-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d)?)?")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"(?i)\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b")
_STREET_TYPES = (
    r"street|st|road|rd|drive|dr|avenue|ave|av|lane|ln|boulevard|blvd|court|ct|crescent|cres|place|pl|way|"
    r"terrace|terrasse|pass|radial|square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|trl|row|path|alley|plaza|"
    r"line|sideroad|concession|chemin|ch|boul|rang|croissant|allée|promenade|quai|rue|route|montée|côte"
)
_EURO_STREET = r"[A-Za-zÀ-ÿĀ-žΑ-ώ'.-]*(?:vej|veien|vegen|gatan|gata|gade|katu|tie|straße|strasse|str\.|weg|laan|straat|plein|ulica|utca|kapu|tér|vägen|väg|sokak|caddesi|odos|street)"
_ADDRESS = re.compile(
    "|".join(
        [
            rf"\b\d{{1,6}}[a-z]?,?\s+(?:[A-ZÀ-Ý0-9][\w'.-]*\s+){{1,4}}(?i:{_STREET_TYPES})\b\.?(?:\s+(?i:n|s|e|w|north|south|east|west|nord|sud|est|ouest)\b)?",
            r"\b(?i:rue|chemin|boulevard|boul|avenue|ul\.|via|calle|avenida|rua|viale|piazza)\s+(?:[\w'.-]+\s+){0,3}[\w'.-]+\s+\d{1,5}\b",
            r"\b\d{1,6},?\s+(?i:rue|chemin|boulevard|boul\.?|avenue|av\.|rang|route|montée)\s+(?:[\w'.-]+\s?){1,4}",
            rf"\b(?i:{_EURO_STREET})\s+\d{{1,5}}[a-z]?\b",
            r"\b[A-ZÀ-Ý][\w'-]+\s+(?i:kapu|terrasse|veien|vej|gade|katu|tie|weg|laan|út|utca|ulica|odos)\s+\d{1,5}\b",
            r"\b(?i:apt|apartment|suite|ste|unit|app|appartement|bureau)\.?\s*#?\s*\d{1,5}[a-z]?\b",
            r"\b(?i:p\.?\s?o\.?\s?box|case postale|psc|box)\s*\d{1,6}\b",
            r"\b(?i:[afd]po)\s+(?i:a[aep])\s+\d{5}\b",
            r"\b(?i:uss|usns|usnv|uscgc)\s+[A-Z]\w+\b",
            r"\b\d{3,6}\s+[A-ZÀ-ÞΑ-ΩΆ-Ώ][\w'.-]+(?:\s+[\w'.-]+){0,2}\s+\d{1,5}[a-z]?\b",
            r"\b[A-ZÀ-Ý][\w'-]+\s+(?:u\.|út|utca|ulica|ul\.)\s*\d{1,5}\b",
            r"\b(?i:the corner of)\s+[^,.\n]{3,60}\s+(?i:and)\s+[^,.\n]{3,40}",
        ]
    )
)
_DATE = re.compile(
    r"(?i)\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)[a-zéû]*\.?\s+\d{1,2},?\s+(?:19|20)\d{2}|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)[a-z]*\.?\s+(?:19|20)\d{2})\b"
)
_DOB_CONTEXT = re.compile(r"(?i)\b(born|birth|dob|d\.o\.b|birthday|née?|naissance|date de naissance)\b")
_HEALTH = re.compile(r"(?i)(?<![\d-])\d{4}[ -]?\d{3}[ -]?\d{3}(?:[ -]?[a-z]{2})?\b")
_HEALTH_CONTEXT = re.compile(
    r"(?i)\b(health card|ohip|health number|carte santé|carte d'assurance maladie|ramq|msp|hin)\b"
)
_DL_ON = re.compile(r"(?i)\b[a-z]\d{4}[ -]?\d{5}[ -]?\d{5}\b")
_DL_GENERIC = re.compile(r"(?i)\b[a-z]{0,2}\d[\d-]{5,16}\d\b")
_DL_CONTEXT = re.compile(r"(?i)\b(driver'?s? licen[cs]e|licen[cs]e (number|no|#)|dl#?|permis de conduire)\b")
_PASSPORT = re.compile(r"(?i)\b[a-z]{1,2}\d{6,8}\b")
_PASSPORT_CONTEXT = re.compile(r"(?i)\b(passport|passeport)\b")
_PLATE = re.compile(r"(?i)\b[a-z]{3,4}[ -]?\d{3,4}\b")
_PLATE_CONTEXT = re.compile(r"(?i)\b(plate|licen[cs]e plate|plaque)\b")
_BANK = re.compile(r"(?<!\d)\d{5}[ -]\d{3}[ -]\d{5,12}(?!\d)")
_BANK_CONTEXT = re.compile(r"(?i)\b(account|transit|institution|compte|banque|bank)\b")
_SIN_CONTEXT = re.compile(r"(?i)\b(sin|nas|social insurance|assurance sociale)\b")
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(call|phone|cell|mobile|tel|text|number|fax|desk|reach|appel|téléphone|cellulaire|numéro)\b"
)
_ZIP_CONTEXT = re.compile(r"(?i)\b(zip|address|lives|street|apt|suite|road|ave)\b")
_NAME = re.compile(r"\b[A-Z][a-zà-ÿ'-]+(?:\s+[A-Z]\.)?\s+[A-Z][a-zà-ÿ'-]{2,}\b")
_PRIVATE_FACT = re.compile(
    r"(?i)\b(lives at|lives on|address|phone|number|cancer|hiv|diagnos\w+|pregnant|rehab|welfare|"
    r"criminal record|divorc\w+|salary|habite|adresse|malade|dossier)\b"
)
_FAKE = re.compile(r"(?i)(555[-. ]?01\d\d|123[-. ]?456[-. ]?7890?|example\.(com|org)|test@|xxx)")
_PREFILTER = re.compile(r"(?i)\d|@[\w.-]+\.[a-z]|[\[({ ]at[\])} ].{1,40}(dot|\.)\s*[a-z]{2,3}\b")
CITY_PUBLIC = ("519-255-6100", "5192556100", "311", "350 city hall square", "citywindsor.ca")


def luhn(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def iban_ok(raw: str) -> bool:
    s = re.sub(r"\s", "", raw).upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def card_ok(digits: str) -> bool:
    if not 12 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    return luhn(digits)


@register
class PrivateInfoDetector(ClauseDetector):
    name = "private_info"
    version = "1"
    clause = "5.7.9"
    category = "private_info"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        allow = self.settings.get("allow")
        self.allow = tuple(str(a).lower() for a in (allow if allow is not None else CITY_PUBLIC))

    def detect(self, comment: Comment) -> list[Tag]:
        text = comment.text
        if not any(c.isdigit() for c in text) and "@" not in text and " at " not in text and "[at]" not in text:
            return []
        spans = find_private(text)
        if not spans:
            return []
        low = text.lower()
        kept: list[Evidence] = []
        for span in spans:
            chunk = low[span.start : span.end]
            if any(a in chunk or chunk.strip() in a for a in self.allow if len(chunk.strip()) > 3):
                continue
            kept.append(span)
        if not kept:
            return []
        score = 0.0
        for span in kept:
            s = SCORES.get(span.label, 0.5)
            if _FAKE.search(text[span.start : span.end]):
                s = 0.15
            score = 1 - (1 - score) * (1 - s)
        labels = sorted({s.label for s in kept})
        if labels == ["PERSON"]:
            return []
        return [self.tag(min(score, 0.99), kept[:30], detail=", ".join(labels))]


def find_private(text: str) -> list[Evidence]:
    """Every private-information span in ``text``, overlaps resolved in favour of the stronger type."""
    found: list[Evidence] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, label: str) -> None:
        if any(start < b and a < end for a, b in taken):
            return
        taken.append((start, end))
        found.append(Evidence(start, end, label))

    for m in _EMAIL.finditer(text):
        add(m.start(), m.end(), "EMAIL")
    for m in _EMAIL_OBF.finditer(text):
        add(m.start(), m.end(), "EMAIL")
    for m in _IBAN.finditer(text):
        if iban_ok(m.group()):
            add(m.start(), m.end(), "IBAN")
    for m in _SSN.finditer(text):
        add(m.start(), m.end(), "SSN")
    for m in _BANK.finditer(text):
        if _BANK_CONTEXT.search(text[max(0, m.start() - 60) : m.end() + 30]):
            add(m.start(), m.end(), "BANK_ACCOUNT")
    for m in _SIN.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if luhn(digits) and digits[0] not in "08":
            add(m.start(), m.end(), "SIN")
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if card_ok(digits):
            add(m.start(), m.end(), "CREDIT_CARD")
    for m in _HEALTH.finditer(text):
        if _HEALTH_CONTEXT.search(text[max(0, m.start() - 60) : m.end() + 20]):
            add(m.start(), m.end(), "HEALTH_CARD")
    for rx, ctx, label in (
        (_DL_ON, None, "DRIVERS_LICENCE"),
        (_DL_GENERIC, _DL_CONTEXT, "DRIVERS_LICENCE"),
        (_PASSPORT, _PASSPORT_CONTEXT, "PASSPORT"),
        (_PLATE, _PLATE_CONTEXT, "LICENCE_PLATE"),
    ):
        for m in rx.finditer(text):
            if ctx is None or ctx.search(text[max(0, m.start() - 50) : m.end() + 10]):
                add(m.start(), m.end(), label)
    for m in _IPV4.finditer(text):
        if all(int(p) <= 255 for p in m.group().split(".")):
            add(m.start(), m.end(), "IP_ADDRESS")
    for m in _IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        add(m.start(), m.end(), "IP_ADDRESS")
    for m in _DATE.finditer(text):
        if _DOB_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]):
            add(m.start(), m.end(), "DATE_OF_BIRTH")
    for m in _ISO_DATE.finditer(text):
        taken.append(m.span())  # a timestamp is not a phone number
    for m in _ZIP_LABELLED.finditer(text):
        add(m.start(1), m.end(1), "ZIP_CODE")
    for m in _PHONE.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        if not 7 <= len(digits) <= 15 or re.fullmatch(r"(19|20)\d\d", raw.strip()):
            continue
        if _SIN_CONTEXT.search(text[max(0, m.start() - 30) : m.start()]):
            continue  # a SIN-shaped number that failed its checksum is not a phone either
        if len(digits) < 10 and not (
            re.search(r"[\s.-]", raw.strip()) or _PHONE_CONTEXT.search(text[max(0, m.start() - 40) : m.start()])
        ):
            continue
        add(m.start(), m.end(), "PHONE")
    for m in _POSTAL.finditer(text):
        add(m.start(), m.end(), "POSTAL_CODE")
    for m in _ADDRESS.finditer(text):
        add(m.start(), m.end(), "STREET_ADDRESS")
    for m in _ZIP.finditer(text):
        if _ZIP_CONTEXT.search(text[max(0, m.start() - 80) : m.end() + 20]) or any(
            lab == "STREET_ADDRESS" and abs(e - m.start()) < 60
            for (s, e), lab in zip(taken, [f.label for f in found], strict=False)
        ):
            add(m.start(), m.end(), "ZIP_CODE")
    if found and _PRIVATE_FACT.search(text):
        for m in _NAME.finditer(text):
            add(m.start(), m.end(), "PERSON")
    found.sort(key=lambda e: e.start)
    return found
