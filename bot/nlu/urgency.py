"""Is she in danger right now? (`urgent` in DESIGN.md "Intents and labels")

Urgent: immediate physical danger, an attack in progress, a threat to life, suicidal
intent, serious injury or bleeding, sexual assault within the last 72 hours.

A missed danger is the worst error Amane can make and a false alarm costs little,
so a message is urgent if ANY of these says so:

1. the danger lexicon below (all four varieties, on `normalize()`d text): words
   for killing, weapons, strangling, "save me", being locked in, suicide, bleeding,
   not breathing, and rape together with a word for "now / last night / today";
2. the urgency model (logistic regression on the shared features, trained on the
   `urgent` labels of `data/intents/`) above a low threshold;
3. the intent model giving `emergency` more than a low probability.

The lexicon is what keeps recall on messages unlike the training data; the
thresholds are chosen on cross-validation for recall first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.nlu.lexicon import ScriptRegex, scripts
from bot.types import Intent

__all__ = [
    "EMERGENCY_PROBABILITY_THRESHOLD",
    "URGENT_PROBABILITY_THRESHOLD",
    "danger_signals",
    "is_urgent",
]

URGENT_PROBABILITY_THRESHOLD: Final = 0.3
EMERGENCY_PROBABILITY_THRESHOLD: Final = 0.25


def _rx(*alternatives: str) -> ScriptRegex:
    return ScriptRegex(*alternatives)


# Latin Darija, written with Arabizi digits or their letter equivalents
# (q/9/k/g for ق, 7/h for ح, 3/a for ع, kh/5 for خ).
_Q = "[qk9g]"
_H = "[7h]"
_KILL_LATN = (
    rf"\b(?:ka|ta|gha|ghad|ghay|ba|bagh|radi)?[ynt]?{_Q}t[ae]?l(?:ni|na|k|ek|ak|ha|kom|hom|ou|o)\b"
)
_SLAUGHTER_LATN = rf"\b(?:ka|ta|gha|ghay)?[ynt]?[dt]b[ae]?{_H}(?:ni|na|k|ek|ha)\b"
_STRANGLE_LATN = rf"\b(?:ka|ta)?[ynt]?(?:kh|5)n[ae]?{_Q}(?:ni|na|ha)\b|\bkhn[ae]?{_Q}ni\b"
_SAVE_ME_LATN = r"\b(?:3|a)t[aei]?[q9k](?:ni|ouni|oni|ini|uni|na)\b|\bsa3douni\b"
_LOCKED_LATN = (
    r"\bm?s[e]?dd?[ae]? 3l[iy]+a\b|\bsd 3l[iy]a\b|\bsed 3l[iy]+a\b|\b[m]?[9qk]f[e]?l 3l[iy]a\b"
    rf"|\b{_H}b[ae]?sni\b|\bm{_H}bo?usa\b|\bm[9qk]fla 3l[iy]a\b|\bmsedda\b"
)
_WEAPON_LATN = (
    r"\bl?mo+s+\b|\bl?mouss?\b|\bjenwi\b|\bjnwi\b|\bl?jenoui\b|\bs[e]?kk?in[ea]?\b"
    r"|\bcouteaux?\b|\bpistolets?\b|\bfusils?\b|\barme\b|\bhache\b|\bsabre\b|\bchakour\b"
    r"|\bsatour\b|\bl?mdfa3\b"
)
_FIRE_LATN = rf"\b[ynt]?{_H}r[ae]?{_Q}(?:ni|na|k|ha)\b|\b{_H}r[ae]?{_Q} (?:d?dar|lbit|l?bit)\b"
_SUICIDE_LATN = (
    rf"\bn?[qk9g]t[ae]?l+ ?r+a?s+i\b|\bn?t+[ae]?{_H}+[ae]?r\b|\bntt?a?{_H}[ae]?r\b|\bnt{_H}r\b"
    r"|\bsuicid|\bme tuer\b|\ben finir\b|\bmourir\b|\bmettre fin\b|\bplus envie de vivre\b"
    r"|\bnmout\b"
    rf"|\bma b[q9]itch (?:bghya|baghya|bagha) n3ich\b|\bnlo{_H} rass?i\b|\bnrmi rass?i\b"
    r"|\bdwa (?:dyal|d) l?far\b|\bje veux mourir\b|\bme jeter\b|\bme pendre\b"
)
_BLEEDING_LATN = (
    r"\bd+e?m+ (?:kaynzel|kaysil|kaykhroj|bzaf)\b|\b(?:kaynzel|kaysil|nazel|kaykhroj)(?: \w+)? d+e?m+\b"
    r"|\bsaign|\bhemorrag|\bsang (?:coule|partout|beaucoup)\b"
)
_BREATH_LATN = (
    r"\bma ?\w*d[ae]?r\w* (?:\w+ )?n?t+ ?n[ae]?f[ae]?s|\bn?t+ ?n[ae]?f[ae]?s mzyan\b"
    r"|\b(?:plus|pas|peux pas|arrive pas a|arrive plus a) respirer\b|\bevanoui"
)
_NOW_ATTACK_FR = (
    r"\bau secours\b|\ba l aide\b|\bva me tuer\b|\bveut me tuer\b|\bme tuer\b|\bm egorger\b"
    r"|\best en train de me\b|\bm etrangle\b|\bdefonce\b|\bm a enfermee\b|\bsuis enfermee\b"
    r"|\bsequestr|\bme poursuit\b|\bme court apres\b|\bappelez la police\b|\bje suis en danger\b"
    r"|\bil arrive pour\b|\bil me frappe (?:la|maintenant|en ce moment)\b|\bvite vite\b"
    r"|\bbruler la maison\b|\bouvert le gaz\b|\bm enlever\b|\bkidnapp"
)
_NOW_ATTACK_LATN = (
    r"\b3awnouni daba\b|\bsos\b|(?<!d )\burgen(?:t|ce)\b|\bhelp\b"
    r"|\b(?:ra+h|howa|ra) (?:\w+ )?f ?l?bab\b|\bkay?df[ae]?3 (?:l|l )?bab\b|\bykhtfouni\b|\bkhtfouni\b"
    r"|\b3ayto (?:3la|l) ?(?:l?bolis|police)\b|\bdaba daba\b|\bf khatar\b|\bkayjri moraya\b"
    r"|\bkaytab3ni\b|\btab3ni\b|\bdkhl 3liya\b|\bdkhlo 3liya\b|\bkayjri moraya\b"
    r"|\bakhir nhar\b|\bdernier jour\b|\bme tue\b|\bentre chez moi\b|\bentres chez moi\b"
    r"|\bl7a?yat\b.*\bnsali\b"
)

# Arabic script (Darija and MSA after normalize(): no hamza, ة -> ه, ى -> ي).
_KILL_AR = r"(?:^| )(?:[وف])?(?:كي|غادي ي|غاد ي|باغي ي|س|سي|ي|ن|ت)?(?:يقتل|قتل|نقتل|تقتل)(?:ني|نا|ك|ها|كم)?\b|قتلي\b"
_SLAUGHTER_AR = r"(?:يدبح|يذبح|ندبح|نذبح|ذبح|دبح)(?:ني|ك|ها|ي)?\b"
_STRANGLE_AR = r"(?:خنق|يخنق|كيخنق|يخنقني|خنقني)"
_SAVE_ME_AR = r"عتقوني|عتقني|انقذوني|انقذني|النجده|الحقوني|اغيثوني|غيتوني|عاونوني دابا|ساعدوني الان"
_LOCKED_AR = (
    r"سد عليا|سدو عليا|مسدوده? عليا|قفل عليا|اغلق علي|حبسني|محبوسه|محتجزه|مسدوده"
    r"|حبسوني|سدات عليا"
)
_WEAPON_AR = r"(?:^| )(?:ب|بال|ال)?(?:موس|سكين|جنوي|سلاح|مسدس|ساطور|شاقور|خنجر|بندقيه|الموس)\b"
_FIRE_AR = r"(?:يحرق|نحرق|سيحرق|يحرقني|حرقني)|البوطا|الغاز"
_SUICIDE_AR = (
    r"انتحر|نتحر|الانتحار|نقتل راسي|اقتل نفسي|انهي حياتي|انها حياتي|نلوح راسي|ارمي نفسي"
    r"|دوا الفار|سم الفيران|سم الفيران|بغيت نموت|اريد ان اموت|نموت ونتهني|مابقيتش باغيه نعيش"
    r"|لم اعد ارغب في الحياه|اضع حدا"
)
_BLEEDING_AR = r"الدم كيسيل|الدم يسيل|كينزل مني الدم|كيسيل الدم|انزف|نزيف|نزف|تنزف|الدم كينزل"
_BREATH_AR = r"ماقدرتش نتنفس|ماقادراش نتنفس|لا استطيع التنفس|مابقيتش قادره نتنفس|اغمي علي|غاب عليا"
# Serious injury: thrown down the stairs, fallen and unable to stand, fainted,
# a broken limb.
_INJURY_LATN = (
    r"\bdrouj\b|\bescaliers?\b|\bma ?[q9k]adrach? n?we[q9]ef\b|\btay7a f l?ard\b|\bpar terre\b"
    r"|\bpeux pas me lever\b|\barrive pas a me lever\b|\bghma 3liya\b|\bghmi 3liya\b|\bevanoui"
    r"|\bt[q9]ss(?:at|o|et)?\b|\bmkasra\b|\b(?:bras|jambe|cote|cotes) cassee?s?\b|\bcasse (?:le|la) (?:bras|jambe)\b"
    r"|\bjambe cassee\b|\bbrulee?\b|\b7r[q9]ni\b"
)
_INJURY_AR = (
    r"الدروج|من الدرج|ماقادراش نوقف|لا استطيع الوقوف|طايحه فالارض|سقطت ارضا|غمي عليا|غمي علي|اغمي علي"
    r"|تقصح|انكسرت|كسر ذراعي|كسر رجلي|حرقني|احرقني"
)
_NOW_ATTACK_AR = (
    r"راه كيضربني|كيضربني دابا|يضربني الان|راه فالباب|عند الباب|كيدفع الباب|يدفع الباب"
    r"|عيطو (?:للبوليس|علي البوليس)|اتصلوا بالشرطه|انا في خطر|انا فخطر|يلاحقني|كيتبعني|يتبعني"
    r"|يطاردني|يخطفوني|اختطافي|دخل عليا|اقتحم|كيجري موراي|اخر نهار فحياتي|اخر يوم في حياتي"
    r"|دخلو عليا|دخل علي"
)

_LEXICON: Final[tuple[tuple[str, ScriptRegex], ...]] = (
    ("kill", _rx(_KILL_LATN, _KILL_AR)),
    ("slaughter", _rx(_SLAUGHTER_LATN, _SLAUGHTER_AR)),
    ("strangle", _rx(_STRANGLE_LATN, _STRANGLE_AR, r"\betrangl")),
    ("save_me", _rx(_SAVE_ME_LATN, _SAVE_ME_AR)),
    ("locked_in", _rx(_LOCKED_LATN, _LOCKED_AR, r"\benfermee?\b|\bbloquee a la maison\b")),
    ("weapon", _rx(_WEAPON_LATN, _WEAPON_AR)),
    ("fire", _rx(_FIRE_LATN, _FIRE_AR)),
    ("suicide", _rx(_SUICIDE_LATN, _SUICIDE_AR)),
    ("bleeding", _rx(_BLEEDING_LATN, _BLEEDING_AR)),
    ("breathing", _rx(_BREATH_LATN, _BREATH_AR)),
    ("serious_injury", _rx(_INJURY_LATN, _INJURY_AR)),
    ("attack_now", _rx(_NOW_ATTACK_FR, _NOW_ATTACK_LATN, _NOW_ATTACK_AR)),
)

# Sexual assault within 72 hours: a word for it AND a word for a recent time.
_RAPE = _rx(
    r"\bi?(?:gh|8|r)?[ae]?t[ae]?s[ae]?b",  # ghtasbni, ghtasbouni, 8tasbni, ightasab
    r"\bviol(?:ee|er|e)?\b|\bviolee?s?\b|\babuse de moi\b|\bagress(?:ee|e) sexuel",
    r"اغتصب|اغتاصب|غتاصب|غتصب|تعرضت للاغتصاب|اعتدي علي جنسيا|اعتدي علي",
)
_RECENT = _rx(
    r"\blbar(?:7|h|e7|eh)\b|\blyoum\b|\bhad (?:s?sba7|s?sbah|lila|l3chiya)\b|\bdaba\b|\bdba\b"
    r"|\bhier\b|\bcette nuit\b|\bce matin\b|\baujourd hui\b|\btout a l heure\b|\bhier soir\b"
    r"|\bvient de\b|\bmaintenant\b|\bavant hier\b|\bwe[sa]?tha\b|\bdaba chwia\b",
    r"البارح|اليوم|هاد الليله|هاد الصباح|امس|هذه الليله|الليله|هذا الصباح|الان|دابا|قبل شويه",
)
# Recent attacks in progress said with a verb of beating and "now".
_BEATING = _rx(
    r"\b(?:kay|ka|ta|rah|ra)? ?y?dr[ae]?b(?:ni|na|fiya|fina)?\b|\bkaydreb\b|\bfrappe\b|\bbat\b",
    r"كيضرب|يضرب|ضرب فيا|يضربني",
)
_NOW = _rx(
    r"\bdaba\b|\bdba\b|\bmaintenant\b|\ben ce moment\b|\bvite\b|\bnow\b",
    r"دابا|الان|حاليا",
)


def danger_signals(norm: str) -> tuple[str, ...]:
    """Names of the danger-lexicon entries found in `normalize()`d text."""
    present = scripts(norm)
    found = [name for name, pattern in _LEXICON if pattern.search_in(norm, present)]
    if _RAPE.search_in(norm, present) and _RECENT.search_in(norm, present):
        found.append("recent_sexual_assault")
    if _BEATING.search_in(norm, present) and _NOW.search_in(norm, present):
        found.append("beating_now")
    return tuple(found)


def is_urgent(
    norm: str,
    urgent_probability: float,
    intent_ranking: Sequence[tuple[Intent, float]],
) -> bool:
    """The urgent flag for one message (see the module docstring)."""
    if danger_signals(norm):
        return True
    if urgent_probability >= URGENT_PROBABILITY_THRESHOLD:
        return True
    for intent, probability in intent_ranking:
        if intent == "emergency":
            return probability >= EMERGENCY_PROBABILITY_THRESHOLD
    return False
