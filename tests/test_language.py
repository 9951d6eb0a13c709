"""Language identification between the city's two languages."""

from __future__ import annotations

import pytest

from pipelines.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("When will the snow be cleared on my street?", "en"),
        ("Quand est-ce que la ville va déneiger ma rue?", "fr"),
        ("Merci pour les infos, c'est très utile", "fr"),
        ("Thanks for the update, this is great news", "en"),
        ("👍👍👍", "und"),
        ("", "und"),
        ("12345", "und"),
        ("Tabarnak, la ville a encore oublié de déneiger ma rue", "fr"),
        ("C'est quoi le problème avec les autobus ce matin?", "fr"),
        ("Bravo aux cols bleus!", "fr"),
        ("The bus was late again, what is going on?", "en"),
        ("Merci but when will the pool open?", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
