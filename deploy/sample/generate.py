"""Writes windsor_sample.jsonl: city posts and resident comments for the demo and the tests.

Every comment is written for this project (no real resident's words); private information uses
numbers that are well-formed but belong to nobody we know of. ``expect`` lists the categories the
comment was written to exhibit, so the demo can show how many the pipeline finds.
Run: ``python deploy/sample/generate.py`` (deterministic).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).with_name("windsor_sample.jsonl")
START = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)

POSTS = {
    "snow": (
        "x",
        "Snow clearing update: crews are plowing main roads first, then residential streets within "
        "48 hours after the snowfall ends. Please keep cars off the street during the parking ban.",
    ),
    "waste": (
        "facebook",
        "Garbage and recycling collection will be one day late next week because of the "
        "holiday. Put your bins and blue boxes out by 7 a.m. on your new collection day.",
    ),
    "transit": (
        "x",
        "Transit Windsor Route 2 detours along Wyandotte Street from Monday while the bridge "
        "deck is repaired. Check the app for the updated schedule.",
    ),
    "park": (
        "facebook",
        "The new splash pad at Jackson Park opens Saturday at 10 a.m. Admission is free and "
        "the washrooms are accessible.",
    ),
    "water": (
        "facebook",
        "A water main break on Tecumseh Road East has closed the eastbound lanes. Crews are "
        "on site; repairs should take about 12 hours.",
    ),
    "budget": (
        "x",
        "Share your views on the 2027 budget: fill in the online survey or come to the public "
        "consultation at City Hall on Thursday evening.",
    ),
    "festival": (
        "facebook",
        "Le festival d'hiver au bord de la rivière commence vendredi : patinage, musique "
        "et feux d'artifice gratuits pour toute la famille.",
    ),
}

CLEAN = {
    "snow": [
        "When will my street be plowed? It's been two days.",
        "The plow left a wall of snow at the end of my driveway.",
        "Thanks to the crews working overnight on the roads!",
        "Can the sidewalks near the school be cleared too?",
        "Where are we supposed to park during the ban?",
        "Main roads are fine, side streets are a skating rink.",
    ],
    "waste": [
        "So Tuesday pickup moves to Wednesday?",
        "My recycling was missed last week, who do I call?",
        "Is yard waste collected during the holiday week?",
        "Thanks for the reminder about the bins.",
        "Can we get a printed collection calendar?",
    ],
    "transit": [
        "How long will the Route 2 detour last?",
        "Will the stops on Crawford be closed?",
        "Please post the new schedule at the stops.",
        "Does the app show the detour yet?",
        "The detour adds twenty minutes to my commute.",
    ],
    "park": [
        "Finally! The kids have waited all summer for the splash pad.",
        "Is there shade near the splash pad?",
        "What are the weekday hours?",
        "Great addition to Jackson Park, thank you.",
        "Are dogs allowed near the splash area?",
    ],
    "water": [
        "Is the water safe to drink in the area?",
        "My water pressure is really low, is it related?",
        "Which side streets are closed for the repair?",
        "Crews were there fast, good work.",
    ],
    "budget": [
        "Where is the link to the budget survey?",
        "Please keep property taxes down this year.",
        "Will the consultation be streamed online?",
        "Spend more on roads and less on consultants.",
    ],
    "festival": [
        "Est-ce que la patinoire est ouverte le soir?",
        "Merci pour les feux d'artifice, les enfants adorent.",
        "Y a-t-il du stationnement près de la rivière?",
        "On a hâte de patiner au bord de la rivière!",
    ],
}
CRITICISM = [
    "This decision is a disgrace and the city should reverse it.",
    "Worst snow removal in twenty years, fix the roads!",
    "The city wasted millions on this, residents deserve better.",
    "Three weeks and my pothole report is still ignored.",
    "This plan is a total failure. Start over.",
    "La ville gaspille notre argent, c'est inacceptable.",
]
VIOLATIONS = {
    "offtopic": [
        "My cat just had kittens, anyone want one? They are so cute.",
        "Go Leafs go! What a game last night at the arena in Toronto.",
        "Does anyone know a good pizza place open late on a Sunday?",
        "Happy birthday to my sister Maria, love you!",
    ],
    "profane": [
        "This is fucking ridiculous, two days and nothing.",
        "What a load of sh!t, same every year",
        "F u c k this detour",
        "Putain, encore des retards",
    ],
    "discrimination": [
        "Immigrants don't belong here, send them all back.",
        "Muslims are vermin and should be deported.",
        "Women are too stupid to drive plows, fire them all.",
    ],
    "sexual": ["Hot singles in Windsor want to meet you, send nudes", "Check out my onlyfans for the full video"],
    "illegal": [
        "Selling weed and percs, DM me",
        "Let's vandalize the new mural tonight, bring spray paint",
        "Everyone should stop paying their water bills, they can't arrest us all",
    ],
    "commercial": [
        "Buy cheap followers now at bit.ly/x7q, DM me",
        "Earn $500 a day working from home with crypto, message me on WhatsApp",
        "Best roofing prices in the county, call now for 20% off",
    ],
    "attack": ["You are a complete idiot and should be fired.", "Shut up, nobody cares what you think, moron."],
    "political": ["Vote Conservative, axe the tax!", "Re-elect the Liberals this October, bring it home"],
    "safety": [
        "Someone should burn city hall down.",
        "The back door of the water plant is never locked, anyone can get in.",
        "I'm going to shoot the next bylaw officer who tickets me.",
    ],
    "private_info": [
        "My neighbour John Tremblay lives at 1234 Ouellette Ave, his cell is 519-974-2213",
        "Her email is jane.doe.windsor@gmail.com, tell her off",
        "His SIN is 130 692 544, he's a fraud",
        "Mon voisin habite au 1200 rue Sainte-Catherine Ouest, N9A 5K6",
    ],
    "council": [
        "Will the mayor answer our petition about the bridge?",
        "I emailed my councillor three times, no answer.",
        "City council should vote against these new fees.",
        "Le maire va-t-il répondre à notre pétition?",
    ],
}


def main() -> None:
    rng = random.Random(2026)
    lines: list[dict[str, object]] = []
    for key, (platform, text) in POSTS.items():
        lines.append(
            {
                "type": "post",
                "schema_version": 1,
                "platform": platform,
                "post_id": f"{platform}-post-{key}",
                "account": "CityofWindsor",
                "text": text,
                "created_at": START.isoformat(),
            }
        )
    n = 0
    keys = list(POSTS)

    def comment(text: str, post: str, expect: list[str], **extra: object) -> None:
        nonlocal n
        n += 1
        platform = POSTS[post][0]
        created = START + timedelta(minutes=7 * n + rng.randint(0, 6))
        lines.append(
            {
                "type": "comment",
                "expect": expect,
                "schema_version": 1,
                "platform": platform,
                "comment_id": f"{platform}-c{n:04d}",
                "post_id": f"{platform}-post-{post}",
                "author_id": f"resident-{rng.randint(1, 120):03d}",
                "author_handle": f"resident{rng.randint(1, 120)}",
                "text": text,
                "created_at": created.isoformat(),
                "url": f"https://example.invalid/{platform}/{n}",
                **extra,
            }
        )

    for _ in range(5):
        for post, texts in CLEAN.items():
            for text in texts:
                comment(text, post, [])
    for text in CRITICISM * 3:
        comment(text, rng.choice(keys), [])
    for category, texts in VIOLATIONS.items():
        for text in texts * 2:
            post = rng.choice(keys)
            expect = [category] if category != "offtopic" else ["offtopic"]
            comment(text, post, expect)
    comment("👍👍👍 🎉", "park", [])
    comment("Merci! 🙏 Très bonne nouvelle 🎆", "festival", [])
    comment("雪がひどいです、いつ除雪されますか?", "snow", [])
    comment("When will my street be plowed? Update: it's done now, thank you!", "snow", [], edited=True)
    comment("Replying to the comment above: same on my street.", "snow", [], parent_id="x-c0001")
    with OUT.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({len(lines)} lines)")


if __name__ == "__main__":
    main()
