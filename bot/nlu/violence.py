"""Types of violence named in a message (GBVIMS, plus digital violence).

DESIGN.md labels: `rape`, `sexual_assault` (any sexual violence short of rape,
attempted rape included), `physical`, `forced_marriage` (forced or child marriage),
`economic` (denial of resources: money, work, property), `psychological` (insults,
humiliation, threats, control, confinement), `digital` (blackmail with photos or
videos, fake accounts, online harassment).

A lexicon on `normalize()`d text, in the four varieties, kept deliberately literal:
counselors read these labels and figures are published from them, so a label is
only given when the words are there. The training data's violence labels measure
it (`evaluate`).
"""

from __future__ import annotations

from bot.nlu.lexicon import ScriptRegex, scripts
from bot.types import Violence

__all__ = ["detect_violence"]


def _rx(*alternatives: str) -> ScriptRegex:
    return ScriptRegex(*alternatives)


_RAPE = _rx(
    r"\bi?(?:gh|8|r)?[ae]?t[ae]?s[ae]?b(?:ni|ouni|oni|at|ha|o|ou|ek)?\b|\bl?viol\b|\bviolee?s?\b"
    r"|\bviole(?:e|es)?\b|\bvioler\b|\bm a violee?\b|\bl ?ightissab\b",
    r"اغتصب|اغتاصب|غتاصب|غتصب|الاغتصاب|اغتصاب",
)
_ATTEMPT = _rx(
    r"\b(?:7awel|hawel|bgha|bagha|baghi|kaybghi|essaie|essaye|tente|tentative|a voulu|veut)\b"
    r"(?: \w+){0,2} (?:y|n)?(?:gh)?[ae]?t[ae]?s[ae]?b|\b(?:essaie|essaye|tente|tentative) de me violer\b"
    r"|\bveut me violer\b",
    r"(?:حاول|يحاول|باغي|بغا|كيحاول)(?: \w+){0,1} (?:ي|ن)?(?:غتاصب|غتصب|اغتصاب|اغتصابي|يغتاصبني|يغتصبني)",
)
_SEXUAL_ASSAULT = _rx(
    r"\bt7arr?ach|\bta7arr?och|\bt?7ar+ch\b|\bkay?t7arr?ach|\btcharr?at|\bkay?lmesni\b|\blmesni\b"
    r"|\bharcelement sexuel\b|\bharcele(?:e)? sexuel|\battouchement|\bme toucher\b|\bm a touchee?\b"
    r"|\bagression sexuelle\b|\bagressee? sexuellement\b|\bydir biya chi 7aja\b",
    r"تحرش|يتحرش|كيتحرش|لمسني|يلمسني|كيلمسني|اعتدا جنسي|الاعتدا علي|يعتدي علي"
    r"|يدير بيا شي حاجه|جنسيا",
)
_PHYSICAL = _rx(
    r"\b(?:kay|ka|ta|ma|t|y|n)?(?:dr[ae]?b|dreb|darb|drab)\w*|\bdarbni\b|\bsf[ae][3q9]ni\b"
    r"|\b(?:kay)?(?:kh|5)n[ae]?[q9k]ni\b|\bdf[ae]?3ni\b|\b[ynt]?7r[ae]?[q9]ni\b|\bjr[ae]?7\w*"
    r"|\bt9ss\b|frapp|\bbattue?s?\b|\bme bat\b|\bil me bat\b|\bme tape\b|\bcoups?\b|\bgifl"
    r"|\betrangl|\bm a brulee?\b|\bbrulure|\bblessu?r?e?s?\b|\bm a blessee?\b|\bm a poussee?\b"
    r"|\bviolence physique\b|\bcogne|\bm a casse\b|\bbleus\b|\bt?leqni\b|\bviolent\b"
    r"|\bdrouj\b|\bescaliers?\b|\bdem\b|\bsaign|\begorg",
    r"ضرب|صفعني|صرفقني|خنق|دفعني|حرقني|احرقني|جرح|العنف الجسدي|جسديا|يعنفني|كدمات"
    r"|الدروج|الدرج|كسر ذراعي|كسر اسناني|تقصح|الدم|انزف|نزيف|يدبح|يذبح|ذبحي|ندبح",
)
# A heart that beats ("9albi kaydrb", "قلبي كيضرب") is not a blow.
_NOT_PHYSICAL = _rx(
    r"\b(?:9albi|9lbi|galbi|qalbi|coeur)\b(?: \w+)? (?:kay|ka)?dr[ae]?b",
    r"قلبي(?: \w+)? (?:كي|ي)?ضرب",
)
# Threats with a weapon, to kill or to slaughter are physical violence in GBVIMS
# ("use of any weapon"), not only psychological.
_LETHAL = _rx(
    r"\bl?mo+s+\b|\bjenwi\b|\bjnwi\b|\bs[e]?kk?in[ea]?\b|\bcouteaux?\b|\barme\b|\bpistolet"
    r"|\b(?:ka|ta|gha|ghad|ghay|ba|bagh|radi)?[ynt]?[qk9g]t[ae]?l(?:ni|na|k|ek|ak|ha)\b"
    r"|\b[ynt]?db[ae]?7(?:ni|k|ek|ha)\b|\b(?:va|veut|vais|voulait|vient) me tuer\b|\bte tuer\b"
    r"|\bm egorger\b",
    r"(?:^| )(?:ب|بال|ال)?(?:موس|سكين|سكينا|جنوي|سلاح|مسدس|ساطور)\b"
    r"|يقتلني|سيقتلني|ليقتلني|ساقتلك|نقتلك|قتلي",
)
_FORCED_MARRIAGE_EVENT = _rx(
    r"\b[ynt]?z[ae]?w[ae]?j(?:ouni|oni|ni|ha|o|ek)\b|\byzowj|\bzwjouni\b|\bzwaj\b"
    r"|\bzawaj\b|\bmarier\b|\bmariee?\b|\bmariage\b",
    r"يزوجوني|زوجوني|يزوجني|تزويجي|الزواج|زواج|يعطيني لواحد|يعطيوني لواحد",
)
_FORCED = _rx(
    r"\bb ?z+e?z\b|\bb ?sif\b|\bbl ?[q9]wa\b|\bde force\b|\bforcee?\b|\bmalgre moi\b|\bje refuse\b"
    r"|\bma bghitch\b|\bma baghyach\b|\bmabghitch\b",
    r"قسري|بالقوه|بزز|بالسيف|غصبا|رغما عني|ماباغياش|مابغيتش|ما بغيتش|ارفض",
)
_CHILD = _rx(
    r"\b(?:j ai|a|ana|3ndi|w ana|et j ai|age de|agee de)\s1[0-7]\s(?:ans|3am|an)\b",
    r"(?:عندي|عمري|وعمري|وانا|انا|سني)\s1[0-7](?:\s(?:عام|سنه|سنين))?\b",
    r"\bmineure\b|\bqasir|قاصر",
)
_ECONOMIC = _rx(
    r"\bma kay3tinich\b|\bma ki3tinich\b|\bma kay3tini 7ta\b|\bkayakhod (?:liya )?(?:l?flous|l?khlass)"
    r"|\bkayakhod liya\b|\bflousi\b|\bma kaykhl+inich nkhdem\b|\bkaymn3ni nkhdem\b|\bnkhrej w nkhdem\b"
    r"|\bdda kolchi\b|\bba3 dar\b|\b7ta ryal\b|\bprend mon salaire\b|\bne me donne (?:pas|rien)\b"
    r"|\bm empeche de travailler\b|\bpas un dirham\b|\ba tout garde\b|\bne donne rien\b"
    r"|\bvendu la maison\b|\bmendier\b",
    r"ماكيعطينيش|ما كيعطينيش|كياخد ليا|فلوسي|يمنعني من العمل|يمنعني نخدم|كيمنعني نخدم|راتبي"
    r"|لا يعطيني|حتي ريال|داكلشي|باع الدار|باع المنزل|لم يترك لي|لا يصرف",
)
_PSYCHOLOGICAL = _rx(
    r"\bkay?s[ae]?bb?ni\b|\bkaytsb\b|\bkaytseb\b|\b(?:kay|y)?7e?[q9]+rni\b|\bkay?3ayrni\b"
    r"|\by3ayrni\b|\bkay?hd+e?dni\b|\bkayhddni\b|\bkhl3ni\b|\bkaycontrolini\b|\bkay insultini\b"
    r"|\bhumiliyini\b|\bma kaykhl+inich nchouf\b|\bsedd? 3liya f dar\b|\bkaysedd 3liya\b"
    r"|\bkay?9ll mn 9imti\b|\binsult|\bhumili|\brabaiss|\bmenace\b|\bme menace\b|\btraite de\b"
    r"|\bcontrole tout\b|\binterdit de voir\b|\bvaux rien\b|\bkaymn3ni nkhrej\b"
    r"|\bma kaykhl+inich nkhrej\b|\bm empeche de sortir\b",
    r"يسبني|كيسبني|يشتمني|كيحقرني|يحقرني|يحتقرني|يهينني|كيعايرني|يعايرني|يهددني|كيهددني"
    r"|يمنعني من زياره|ماكيخلينيش نشوف|يراقب|حمقه|مجنونه|كيسد عليا|يقول انني"
    r"|يمنعني من الخروج|كيمنعني نخرج",
)
_DIGITAL_MEDIA = _rx(
    r"\bts?aw[e]?r\w*|\btswer\w*|\bphotos?\b|\bvideos?\b|\bimages?\b|\bcaptures?\b",
    r"تصاور|التصاور|تصاوري|صور|صوري|الصور|فيديو|الفيديو",
)
_DIGITAL_ACT = _rx(
    r"\b[ynt]?nch[ae]?r\b|\bkaynchr\b|\bpubli|\bposte|\bpartag|\bchantage\b|\bchanter\b"
    r"|\bkaybt+azni\b|\bbt+az|\bfacebook\b|\bfb\b|\binsta\w*|\bwhatsapp\b|\btiktok\b|\bsnap\w*",
    r"ينشر|نشر|كينشر|يبتزني|كيبتزني|ابتزاز|يبتز|فيسبوك|الفيسبوك|انستغرام|واتساب",
)
_DIGITAL_ALONE = _rx(
    r"\bchantage\b|\bkaybt+azni\b|\bbt+azni\b|\bfaux compte\b|\bfake compte\b|\bcompte b smiti\b"
    r"|\bharcelement en ligne\b|\bcyber",
    r"يبتزني|كيبتزني|ابتزاز|حساب بسميتي|حسابا باسمي|حساب باسمي",
)


def detect_violence(norm: str) -> tuple[Violence, ...]:
    """The violence types named in `normalize()`d text, in the DESIGN.md order."""
    present = scripts(norm)
    found: list[Violence] = []
    rape = bool(_RAPE.search_in(norm, present))
    attempt = bool(_ATTEMPT.search_in(norm, present))
    if rape and not attempt:
        found.append("rape")
    if attempt or _SEXUAL_ASSAULT.search_in(norm, present):
        found.append("sexual_assault")
    lethal = bool(_LETHAL.search_in(norm, present))
    if lethal or (
        _PHYSICAL.search_in(norm, present) and not _NOT_PHYSICAL.search_in(norm, present)
    ):
        found.append("physical")
    if _FORCED_MARRIAGE_EVENT.search_in(norm, present) and (
        _FORCED.search_in(norm, present) or _CHILD.search_in(norm, present)
    ):
        found.append("forced_marriage")
    if _ECONOMIC.search_in(norm, present):
        found.append("economic")
    digital = bool(
        _DIGITAL_ALONE.search_in(norm, present)
        or (_DIGITAL_MEDIA.search_in(norm, present) and _DIGITAL_ACT.search_in(norm, present))
    )
    if _PSYCHOLOGICAL.search_in(norm, present) and not digital and not lethal:
        found.append("psychological")
    if digital:
        found.append("digital")
    return tuple(found)
