"""5.5 References to the Mayor or City Council: acknowledged and forwarded, not removed.

The policy file names the office holders (``settings.mayor`` and ``settings.councillors``:
``{name, ward, handles, aliases}``), so the forward names the person referenced: a full name, a title
with the surname ("Councillor Gignac", "le maire Dilkens"), a handle (``@name``), or an alias the
city lists because it is unambiguous on its own (a distinctive surname). Generic references ("the
mayor", "council", "mon conseiller", "la mairesse") also count, routed to the office. Other
councils ("student council", "Council Bluffs", "conseil scolaire") and "counsel" do not.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.base import ClauseDetector, Comment, register
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


@register
class CouncilDetector(ClauseDetector):
    name = "council"
    version = "1"
    clause = "5.5"
    category = "council"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        people: dict[str, str] = {}
        handles: dict[str, str] = {}
        mayor = self.settings.get("mayor") or {}
        entries = [({**mayor, "role": "Mayor"})] if mayor else []
        entries += [
            {**c, "role": f"Councillor, Ward {c.get('ward', '?')}"} for c in self.settings.get("councillors") or []
        ]
        for entry in entries:
            name = str(entry.get("name", "")).strip()
            label = f"{entry['role']} {name}".strip()
            if name:
                people[name] = label
                surname = name.split()[-1]
                titles = (
                    ("mayor", "maire", "mairesse", "his worship")
                    if entry["role"] == "Mayor"
                    else ("councillor", "councilor", "conseiller", "conseillère", "coun.", "clr")
                )
                for title in titles:
                    people[f"{title} {surname}"] = label
                    people[f"{title} {name}"] = label
            for alias in entry.get("aliases") or []:
                people[str(alias)] = label
            for handle in entry.get("handles") or []:
                handles[str(handle).lower().lstrip("@")] = label
        self.generic = Lexicon(GENERIC)
        self.people = Lexicon(people)
        self.handles = handles

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
            spans.append(Evidence(s, e, "office"))
            persons.append(label)
        if not spans:
            return []
        score = 0.95 if any(s.label in ("named", "handle") for s in spans) else 0.8
        unique = list(dict.fromkeys(persons))
        return [self.tag(score, spans[:20], detail=", ".join(unique), person=unique[0], persons=unique)]
