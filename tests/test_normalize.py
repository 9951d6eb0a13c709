"""Normalisation rules and the map back to original offsets."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.normalize import Lexicon, fold_accents, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F*ck", "f*ck"),
        ("f u c k you", "fuck you"),
        ("f.u.c.k", "fuck"),
        ("fuuuuuck", "fuuck"),
        ("sh!t", "shit"),
        ("b1tch", "bitch"),
        ("a$$hole", "asshole"),
        ("Ѕhіt", "shit"),  # Cyrillic S and i
        ("ｆｕｃｋ", "fuck"),  # fullwidth
        ("fu\u200bck", "fuck"),  # zero-width space
        ("f\u202eu\u202cck", "fuck"),  # bidi controls
        ("Z̴a̴l̴g̴o̴", "zalgo"),
        ("Crème Brûlée", "creme brulee"),
        ("I paid $50 in 2024", "i paid $50 in 2024"),
        ("f🦆ck", "f*ck"),  # an emoji between letters stands for a letter
        ("sh💩t happens", "sh*t happens"),
        ("fu\ufe0fck", "fuck"),  # variation selector
        ("great job 👍", "great job 👍"),  # an emoji between words stays
        ("S c u n t h o r p e", "scunthorpe"),
        ("ph0ck", "phock"),
        ("Route 66 and 911", "route 66 and 911"),
        ("bitch!!!", "bitch!!!"),  # "!" after a word is punctuation, however many
        ("b!tch!!", "bitch!!"),
        ("sh!!t", "shiit"),
        ("no way!!1", "no way!!1"),
        ("stop||", "stop||"),
        ("kiss my a$$", "kiss my ass"),  # a run of a leet letter ends the word with it
        ("cla$$ act", "class act"),
        ("that costs $$$", "that costs $$$"),
    ],
)
def test_normalisation_rules(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("say F*ck now", "F*ck"),
        ("go f u c k", "f u c k"),
        ("x Ѕhіt y", "Ѕhіt"),
        ("fu\u200bck!", "fu\u200bck"),
        ("well f🦆ck me", "f🦆ck"),
        ("Ｆｕｃｋ it", "Ｆｕｃｋ"),
        ("so fuuuuuck this", "fuuuuuck"),
        ("x f.u.c.k y", "f.u.c.k"),
        ("shut up, shit!!! ok", "shit"),
        ("FUCK!!!!! this", "FUCK"),
    ],
)
def test_matches_map_back_to_the_original_text(text: str, span: str) -> None:
    lex = Lexicon({"fuck": "severe", "shit": "moderate"})
    hits = lex.find(normalize(text))
    assert [text[s:e] for s, e, _, _ in hits] == [span]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Scunthorpe", []),
        ("assessment of the class", []),
        ("what an ass", ["ass"]),
        ("as you said", []),  # "as" is not a squeezed "ass"
        ("fuuuck off", ["fuuuck"]),
        ("f**k", ["f**k"]),
        ("***", []),
    ],
)
def test_word_boundaries_and_obfuscation(text: str, found: list[str]) -> None:
    lex = Lexicon({"fuck": "severe", "ass": "moderate", "cunt": "severe"})
    assert [text[s:e] for s, e, _, _ in lex.find(normalize(text))] == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("fuuck this", ["fuuck"]),  # a letter typed twice to stretch a word is squeezed
        ("la baisse des taxes", []),  # "baisse" is spelled with two s: no squeezed "baise"
        ("il faut baisser la vitesse", []),
        ("une nuée de moustiques", []),  # "ée" folds to "ee": two letters, never a stretched one
        ("la subvention est réfugiée", []),
        ("null and void", []),
        ("cull the geese", []),
        ("nue sur la plage", ["nue"]),
        ("va te faire baiser", ["baiser"]),
    ],
)
def test_spelled_double_letters_are_not_squeezed(text: str, found: list[str]) -> None:
    """The squeezed pass reads "fuuck" as "fuck"; a double letter that is spelling (French "baisse",
    English "cull") or one that accent folding made ("nuée" -> "nuee") is not a stretched word."""
    lex = Lexicon(
        {
            "fuck": "severe",
            "baise": "severe",
            "baiser": "severe",
            "nue": "anatomy",
            "refugie": "group",
            "nul": "insult",
            "cul": "anatomy",
        }
    )
    assert [text[s:e] for s, e, _, _ in lex.find(normalize(text))] == found


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_normalises_with_offsets_inside_the_original(text: str) -> None:
    norm = normalize(text)
    assert len(norm.offsets) == len(norm.text)
    assert all(0 <= o < len(text) for o in norm.offsets)
    assert list(norm.offsets) == sorted(norm.offsets)
    if norm.text:
        s, e = norm.to_original(0, len(norm.text))
        assert 0 <= s <= e <= len(text)


def test_masked_words_take_the_mildest_reading_and_allowlists_ignore_masks() -> None:
    lex = Lexicon({"spic": "slur", "shit": "moderate", "slut": "severe"})
    assert [label for _, _, label, _ in lex.find(normalize("s*** happens"))] == ["moderate"]
    allow = Lexicon({"shia": "allow"}, masks=False)
    assert allow.find(normalize("sh** happens")) == []
    assert [t for _, _, _, t in allow.find(normalize("Shia leaders"))] == ["shia"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["fuck", "shit", "merde"]), st.sampled_from(["", " ", ".", "-", "*"]), st.text(max_size=20))
def test_obfuscated_words_map_back_inside_the_text(word: str, sep: str, tail: str) -> None:
    text = "oh " + sep.join(word) + " " + tail
    lex = Lexicon({"fuck": "severe", "shit": "moderate", "merde": "moderate"})
    for start, end, _, _ in lex.find(normalize(text)):
        assert 0 <= start < end <= len(text)


def _fold_per_character(text: str) -> str:
    """The definition ``fold_accents`` must keep: NFKD, every combining mark dropped."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fold_accents_is_nfkd_without_combining_marks(text: str) -> None:
    assert fold_accents(text) == _fold_per_character(text)


def test_fold_accents_for_every_character_of_the_basic_plane() -> None:
    for start in range(0, 0x10000, 4096):
        chunk = "".join(chr(c) for c in range(start, start + 4096) if not 0xD800 <= c <= 0xDFFF)
        assert fold_accents(chunk) == _fold_per_character(chunk)
