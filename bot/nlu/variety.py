# TEMPORARY LOCAL STUB (not committed): replaced by the NLU branch.
from __future__ import annotations
def choose_reply_variety(current, result, text):
    if result.language == "other" or (current and len(text.split()) < 2):
        return current or "ary"
    return result.language
