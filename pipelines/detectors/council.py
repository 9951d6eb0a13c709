"""5.5 References to the Mayor or City Council: acknowledged and forwarded, not removed.

The policy file names the office holders (``settings.mayor`` and ``settings.councillors``:
``{name, ward, handles, aliases}``), so the forward names the person referenced: a full name, a title
with the surname ("Councillor Gignac", "le maire Dilkens"), a handle (``@name``), or an alias the
city lists because it is unambiguous on its own (a distinctive surname). Generic references ("the
mayor", "council", "mon conseiller", "la mairesse") also count, routed to the office. Other
councils ("student council", "Council Bluffs", "conseil scolaire"), another city's office ("the East
Point mayor", "the mayor of Atlanta"), a title before someone who holds no office here ("Mayor Reed")
and "counsel" do not.
"""

from __future__ import annotations

import re

from pydantic import Field

from pipelines.base import ClauseDetector, Comment, DetectorSettings, SettingsIn, register
from pipelines.detectors._targets import NOT_NAMES
from pipelines.gate import compile_gated
from pipelines.normalize import Lexicon, NormalizedText, normalize
from pipelines.types import Evidence, Tag

GENERIC = {
    "mayor": "Mayor",
    "the mayor": "Mayor",
    "mayor's office": "Mayor",
    "his worship": "Mayor",
    "city council": "City Council",
    "council": "City Council",
    "councillor": "Councillor",
    "councillors": "City Council",
    "councilor": "Councillor",
    "councilors": "City Council",
    "councilman": "Councillor",
    "councilwoman": "Councillor",
    "council members": "City Council",
    "council member": "Councillor",
    "maire": "Mayor",
    "mairesse": "Mayor",
    "le maire": "Mayor",
    "conseil municipal": "City Council",
    "conseiller": "Councillor",
    "conseillère": "Councillor",
    "conseillers": "City Council",
    "conseillère municipale": "Councillor",
    "conseiller municipal": "Councillor",
    "conseillers municipaux": "City Council",
    "conseil de ville": "City Council",
    "la mairesse": "Mayor",
    "monsieur le maire": "Mayor",
    "madame la mairesse": "Mayor",
    "bureau du maire": "Mayor",
    "city councillor": "Councillor",
    "city councillors": "City Council",
    "ward councillor": "Councillor",
}
_OTHER_COUNCIL = compile_gated(
    r"\b(student|school|parish|tribal|security|privacy|research|arts|band|youth|regional|county|advisory|"
    r"european|privy|national|legislative|pastoral|city council of (?!windsor)\w+|conseil (scolaire|d'administration|des ministres|étudiant))\s+"
    r"(council|councils|conseil)?|council bluffs|council of (europe|canadians|ministers|the federation)\b"
)

_TITLES = frozenset(
    "mayor councillor councilor councilman councilwoman council member maire mairesse conseiller conseillère".split(" ")
) | {"council member", "city councillor", "ward councillor"}
_NAME_AFTER = re.compile(r"[ \t]+([A-Z][a-zà-ÿ'’-]+)(?:[ \t]+([A-Z][a-zà-ÿ'’-]+))?")
_PLACE_NOUN_AFTER = re.compile(
    r"['’]s[ \t]+(?:Park|Street|St|Road|Rd|Avenue|Ave|Drive|Lane|Square|Trail|Creek|Hill|Court)\b"
)
_OF_PLACE = re.compile(r"[ \t]+of[ \t]+([A-Z][a-zà-ÿ'’-]+)")
_PLACE_BEFORE = re.compile(r"(?:\b[Tt]he[ \t]+|[a-z,][ \t]+)(?:[A-Z][a-zà-ÿ'’-]+[ \t]+)?([A-Z][a-zà-ÿ'’-]+)[ \t]+$")
_HOME = frozenset({"windsor", "windsor's"})
_NOT_PLACES = frozenset(
    "city deputy acting former regional our my your their dear hi hello hey ward new old the this that town".split()
)
"""Capitalised words before "mayor" or "council" that do not name another place ("the Deputy Mayor",
"our City Council")."""


def _close(a: str, b: str) -> bool:
    """Within two edits (a misspelt surname is still the office holder's: "Dilkins", "Gignak")."""
    if abs(len(a) - len(b)) > 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= (1 if min(len(a), len(b)) <= 4 else 2)


class OfficeHolder(DetectorSettings):
    """The Mayor or one councillor, as the policy file lists them."""

    name: str = ""
    ward: str = "?"
    handles: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    """Names unambiguous on their own in comments about the city (a distinctive surname)."""


class CouncilSettings(DetectorSettings):
    mayor: OfficeHolder | None = None
    councillors: list[OfficeHolder] = Field(default_factory=list)


@register
class CouncilDetector(ClauseDetector):
    name = "council"
    version = "1"
    clause = "5.5"
    category = "council"
    settings_model = CouncilSettings
    settings: CouncilSettings

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        people: dict[str, str] = {}
        handles: dict[str, str] = {}
        mayor = self.settings.mayor
        entries = [("Mayor", mayor)] if mayor else []
        entries += [(f"Councillor, Ward {c.ward}", c) for c in self.settings.councillors]
        for role, entry in entries:
            name = entry.name.strip()
            label = f"{role} {name}".strip()
            if name:
                people[name] = label
                surname = name.split()[-1]
                titles = (
                    ("mayor", "maire", "mairesse", "his worship")
                    if role == "Mayor"
                    else ("councillor", "councilor", "conseiller", "conseillère", "coun.", "clr")
                )
                for title in titles:
                    people[f"{title} {surname}"] = label
                    people[f"{title} {name}"] = label
            for alias in entry.aliases:
                people[alias] = label
            for handle in entry.handles:
                handles[handle.lower().lstrip("@")] = label
        self.names = frozenset(w.lower() for _, e in entries for w in e.name.split() if len(w) > 2) | frozenset(
            a.lower() for _, e in entries for a in e.aliases
        )
        self.generic = Lexicon(GENERIC)
        self.people = Lexicon(people)
        self.handles = handles

    def _elsewhere(self, text: str, start: int, end: int) -> bool:
        """Whether a title or an office names someone or somewhere else: a title before a name that is
        not an office holder's, however misspelt ("Mayor Reed", "Councilman Alex Wan", not "Mayor
        Dilkins"), another place's office ("the East Point mayor", "Chamblee Council", "the mayor of
        Atlanta") or a place named after the office ("Mayor's Park")."""
        after = _NAME_AFTER.match(text, end)
        if after and text[start:end].lower() in _TITLES:
            names = [w for w in after.groups() if w and w.lower() not in NOT_NAMES]
            if names:
                return not any(self._known(w) for w in names)
        if _PLACE_NOUN_AFTER.match(text, end):
            return True
        of = _OF_PLACE.match(text, end)
        if of and of.group(1).lower() not in _HOME:
            return True
        before = _PLACE_BEFORE.search(text, max(0, start - 40), start)
        return bool(before and before.group(1).lower() not in _HOME and before.group(1).lower() not in _NOT_PLACES)

    def _known(self, word: str) -> bool:
        word = word.lower()
        return any(_close(word, name) for name in self.names)

    def detect(self, comment: Comment) -> list[Tag]:
        norm: NormalizedText = comment.view("norm", normalize)
        spans: list[Evidence] = []
        persons: list[str] = []
        for s, e, label, _ in self.people.find(norm):
            spans.append(Evidence(s, e, "named"))
            persons.append(label)
        if self.handles and "@" in comment.text:
            for m in re.finditer(r"@(\w{1,30})", comment.text):
                person = self.handles.get(m.group(1).lower())
                if person:
                    spans.append(Evidence(m.start(), m.end(), "handle"))
                    persons.append(person)
        other = [norm.to_original(m.start(), m.end()) for m in _OTHER_COUNCIL.finditer(norm.text)]
        for s, e, label, _ in self.generic.find(norm):
            if any(a <= s and e <= b for a, b in other) or any(s < x.end and x.start < e for x in spans):
                continue
            if self._elsewhere(comment.text, s, e):
                continue
            spans.append(Evidence(s, e, "office"))
            persons.append(label)
        if not spans:
            return []
        score = 0.95 if any(s.label in ("named", "handle") for s in spans) else 0.8
        unique = list(dict.fromkeys(persons))
        return [self.tag(score, spans[:20], detail=", ".join(unique), person=unique[0], persons=unique)]
