# TEMPORARY LOCAL STUB (not committed): replaced by the NLU branch.
from __future__ import annotations
import re
from bot.nlu.result import NluResult
from bot.nlu.places import Gazetteer

class _Stub:
    def __init__(self, places: Gazetteer) -> None:
        self.places = places
    async def parse(self, text: str) -> NluResult:
        arabic = bool(re.search("[\u0600-\u06ff]", text))
        low = text.lower()
        if arabic:
            lang = "ar" if any(w in text for w in ("أحتاج", "مرحبا", "نعم", "هل")) else "ary"
        else:
            lang = "fr" if any(w in low.split() for w in ("je", "bonjour", "oui", "un", "une", "le", "la", "moi", "il")) else "ary_latn"
        urgent = any(w in low for w in ("couteau", "yqtlni", "يقتلني", "danger", "سكين", "3tqoni"))
        intent = "need_legal" if any(w in low for w in ("avocat", "mo7ami", "محامي", "chikaya")) else "out_of_scope"
        m = self.places.find(text)
        return NluResult(text=text, language=lang, language_confidence=0.9, intent="emergency" if urgent else intent,
                         confidence=0.9 if intent != "out_of_scope" or urgent else 0.3,
                         intent_ranking=((intent, 0.9),), urgent=urgent, place=m, violence=())

def build_nlu(settings, places):
    return _Stub(places)
