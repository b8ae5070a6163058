"""Concept words shared by the four varieties.

"avocat", "m7ami", "محامي" and "محام" are one concept; a classifier trained on a
few thousand messages cannot learn that from character n-grams alone, because each
variety spells it differently. `concepts()` tags a `normalize()`d message with
concept tokens (`lawyer`, `court`, `shelter`, ...) that become extra features, so
what the model learns from a French example also applies to an Arabizi one, and
messages from people outside the team that use a known word in an unseen sentence
are still understood. This is the same idea as Rasa's lookup tables.

Patterns are on `normalize()`d text: lower case, no accents, Arabic letters unified
(ة -> ه, ى -> ي, no hamza).
"""

from __future__ import annotations

import re
from typing import Final

from bot.nlu.lexicon import ScriptRegex, scripts

__all__ = ["CONCEPTS", "concepts"]


def _rx(*alternatives: str) -> ScriptRegex:
    return ScriptRegex(*alternatives)


def _ar(items: str) -> str:
    """Arabic-script words ("|"-separated), each at a word start after an optional
    glued و ف ب ل ك and article; a trailing * lets pronoun suffixes follow."""
    words = []
    for item in items.split("|"):
        item = item.strip()
        if not item:
            continue
        if item.endswith("*"):
            words.append(re.escape(item[:-1]) + r"\w*")
        else:
            words.append(re.escape(item) + r"\b")
    return r"(?:^| )(?:[وفبلك]|ال|وال|فال|بال|لل)?(?:" + "|".join(words) + ")"


# (name, pattern). Latin alternatives use \b; Arabic ones match inside glued
# words on purpose (prefixes ف ب ل و ال are glued in Arabic script).
CONCEPTS: Final[tuple[tuple[str, ScriptRegex], ...]] = (
    # -- legal ------------------------------------------------------------------
    (
        "lawyer",
        _rx(
            r"\bm[ou]?7ami\w*|\bmo?hami\w*|\bavoca\w*|\blawyer\b|\bl?avoka\b",
            _ar("محامي*|محام|محاميه*|المحامي*"),
        ),
    ),
    (
        "court",
        _rx(
            r"\bl?ma7kama\b|\bl?mahkama\b|\btribunal\b|\bjuge\b|\bl?9adi\b|\bqadi\b|\baudience\b"
            r"|\bjalsa\b|\bprocureur\b|\bwakil l3am\b|\bl?wakil\b|\bproces\b|\bjustice\b",
            _ar("محكمه*|المحكمه*|القاضي*|قاضي*|جلسه*|وكيل الملك|النيابه*|قضيه*|قضايي*|دعوي*|دعوه*"),
        ),
    ),
    (
        "complaint",
        _rx(
            r"\bchikaya\b|\bchkaya\b|\bchki\b|\bnchki\b|\bchkit\b|\bplainte\b|\bd3wa\b|\bda3wa\b"
            r"|\bporter plainte\b|\bdeposer\b|\bnrf3\b|\bnrfe3\b",
            _ar("شكايه*|شكوي*|نشكي*|اشتكي*|شكيت*|دعوي*|نرفع*|رفع دعوي|اشكي*|تقديم شكوي"),
        ),
    ),
    (
        "divorce",
        _rx(
            r"\btla9\b|\btalaq\b|\bt?tl[ae][q9]\w*|\bdivorc\w*|\bkhol3\b|\bkhul3\b|\brepudi\w*|\bchi9a9\b",
            _ar("طلاق*|الطلاق*|نطلق*|طلقني*|طلقت*|خلع|الخلع*|الشقاق*|مطلقه*"),
        ),
    ),
    (
        "custody_alimony",
        _rx(
            r"\b7adana\b|\bhadana\b|\bgarde\b|\bnafa9a\b|\bnafaqa\b|\bpension\b|\bwirt\b|\bl?wirt\b"
            r"|\bheritage\b|\bmoudawana\b|\bmudawana\b|\bdroits?\b|\b7o9o9i\b|\b7e99i\b|\b7a9i\b|\bl9anoun\b"
            r"|\b9anouni\w*|\bjuridique\b|\blegal\w*",
            _ar(
                "الحضانه*|حضانه*|النفقه*|نفقه*|الورث*|الارث*|ميراث*|المدونه*|مدونه*|حقوقي*|حقي|القانون*|قانوني*"
            ),
        ),
    ),
    (
        "papers",
        _rx(
            r"\blwra9\b|\bwra9\b|\bwraq\b|\bpapiers?\b|\bdossier\b|\bacte\b|\betat civil\b|\bl7ala lmadaniya\b"
            r"|\b3a9d\b|\bpasseport\b|\bpasport\b|\blcarte\b|\bcarte nationale\b",
            _ar(
                "الوراق*|وراق*|الوثايق*|وثايق*|عقد الزواج|الحاله المدنيه|جواز*|البطاقه الوطنيه|الكارطه*"
            ),
        ),
    ),
    # -- psychological ----------------------------------------------------------
    (
        "psychologist",
        _rx(
            r"\bpsy\w*|\bnafsan\w*|\bnafsi\w*|\btherap\w*|\bsoutien psy\w*",
            _ar("نفساني*|نفسيه*|نفسي*|نفسيا*|نفسيتي*|العلاج النفسي|اخصاييه*|مختص*"),
        ),
    ),
    (
        "distress",
        _rx(
            r"\boublier\b|\bnnsa\b|\bsursaute\b|\bressen\w*|\bvide\b|\bmayta\b|\bmorte\b|\bfond du trou\b|\bkan7e?ss\b|\bkan7ass\b|\bma bqitch kankhrj\b|\bne sors plus\b|\bkanfkar\b|\bdak nhar\b|\bce jour\b|\bculpabilis\w*|\bkan3ayer rasi\b|\bkanbki\b|\bnbki\b|\bpleur\w*|\bcauchemar\w*|\bkabous\b|\bangoiss\w*|\bdepress\w*"
            r"|\bma bqitch kan3e?ss\b|\bkan3ess\b|\bdormir\b|\bdors\b|\bl9al9\b|\bpanique\b|\btraumat\w*"
            r"|\bkhal3a\b|\blkhal3a\b|\bkhouf\b|\bpeur\b|\bmoral\w*|\bdetruite\b|\bkantkhal3\b",
            _ar(
                "نسيان*|ننسي*|ارتعب*|الرعب*|رعب|كنحس*|ميته*|مييته*|مابقيتش كنخرج|اخرج من البيت|داك النهار|ذلك اليوم|كنلوم*|الوم*|كنبكي*|نبكي*|ابكي*|البكا*|الكابوس*|كوابيس*|القلق*|الاكتياب*|اكتياب*|كنعس*|النوم*|انام*|الخلعه*|الخوف*|صدمه*|الهلع*|منهكه*|محطمه*|محطومه*|كنتخلع*"
            ),
        ),
    ),
    (
        "suicide",
        _rx(
            r"\bntt?a7er\b|\bsuicid\w*|\bnmout\b|\bmourir\b|\ben finir\b|\bme tuer\b|\bme jeter\b"
            r"|\bmettre fin\b|\bmes jours\b|\bplus envie de vivre\b|\bn[q9k]t[ae]?l+ rass?i\b"
            r"|\bn3ich\b|\bnlo7 rass?i\b|\bjafil\b|\bjavel\b|\bnfi9\b|\bme reveiller\b",
            _ar(
                "انتحر*|نتحر*|الانتحار*|نموت*|اموت*|نقتل راسي|اقتل نفسي|نلوح راسي|ارمي نفسي|حياتي|نعيش|جافيل|نفيق|استيقظ"
            ),
        ),
    ),
    # -- shelter ----------------------------------------------------------------
    (
        "shelter",
        _rx(
            r"\brentrer chez moi\b|\bnrje3 l ?dar\b|\bcacher\b|\bntkhbba\b|\bnt5bba\b|\bnkhbba\b|\bmeme toit\b|\bloge\w*|\baccueil\w*|\bheberg\w*|\bdar l2iwa2\b|\bnbat\b|\bnbate\b|\bdormir\b|\bmawa\b|\bma2wa\b|\bl2iwa2\b|\biwa2\b|\bhebergement\b|\bheberger\b"
            r"|\bfoyer\b|\brefuge\b|\blogement\b|\bloger\b|\btoit\b|\bnsken\b|\bnskon\b|\bblasa\b|\bendroit\b"
            r"|\bcentre d accueil\b|\bnulle part\b|\bfin nmchi\b|\bfin nbat\b|\bnkri\b|\bkra\b|\bloyer\b",
            _ar(
                "نرجع للدار|الرجوع*|نتخبي*|اختبي*|ياويني*|يستضيفني*|كتسكن*|سقف واحد|دار وحده|فدار وحده|نبات*|ابيت*|ماوي*|الايوا*|ايوا*|مركز الايوا|نسكن*|مسكن*|سكن|بلاصه*|مكان*|سقف|نكري*|الكرا*|يويني*|ياويني*|ماوي*"
            ),
        ),
    ),
    (
        "kicked_out",
        _rx(
            r"\btlo7ni\b|\btla7ni\b|\bkhrjni\b|\bkherjni\b|\btredni\b|\btardni\b|\bzan9a\b|\bzenqa\b"
            r"|\ba la rue\b|\bdans la rue\b|\bdehors\b|\bmise? a la porte\b|\bchassee?\b|\bexpulse\w*|\bhrabt\b",
            _ar(
                "اخرجتني*|طردتني*|طردوني*|لاحني*|خرجني*|طردني*|طردوني*|الزنقه*|الشارع*|هربت*|خرجاتني*|اخرجني*"
            ),
        ),
    ),
    # -- medical ----------------------------------------------------------------
    (
        "doctor",
        _rx(
            r"\btbib\w*|\bmedecin\b|\bdocteur\b|\bdoctor\b|\bgyneco\w*|\bsbitar\b|\bmostachfa\b|\bhopital\b"
            r"|\blhopital\b|\bclinique\b|\burgences\b|\bfa7s\b|\bexamen\b|\banalyse\w*|\btest\b|\bdwa\b"
            r"|\bmedicament\w*|\bsoign\w*|\bntbbeb\b",
            _ar(
                "طبيب*|الطبيب*|طبيبه*|سبيطار*|السبيطار*|مستشفي*|المستشفي*|فحص|الفحص*|تحاليل*|تحليل*|دوا|الدوا*|علاج*|نتبب*"
            ),
        ),
    ),
    (
        "certificate",
        _rx(
            r"\bchahada\b|\bcertificat\b|\bchahada tbiya\b",
            _ar("شهاده طبيه|الشهاده الطبيه|شهاده*|الشهاده*"),
        ),
    ),
    (
        "pregnant",
        _rx(
            r"\b7amla\b|\bhamla\b|\benceinte\b|\bgrossesse\b|\bbebe\b|\bpilule\b|\b7ob\b",
            _ar("حامل*|حامله*|الحمل*|البيبي*|الجنين*|حبوب منع"),
        ),
    ),
    (
        "injury",
        _rx(
            r"\bjr[ae]?7\w*|\bblessu?r\w*|\bblesse\w*|\bwja3\b|\bwje3\w*|\bkaywje3ni\b|\bmal au\b|\bmal a la\b"
            r"|\bdem\b|\bsaign\w*|\bt9ss\w*|\bcasse\b|\bbleus\b|\bgonfle\b|\benfle\w*|\bbrule\w*|\b7r9ni\b"
            r"|\bmnfokha\b|\bzr9a\b",
            _ar(
                "جرح|جروح*|الوجع*|وجع|يوجعني*|كيوجعني*|الم|الدم*|انزف*|نزيف*|تقصح*|كسر|منفوخه*|منتفخه*|متورمه*|كدمات*|حرقني*|زرقه*"
            ),
        ),
    ),
    (
        "body",
        _rx(
            r"\b3ini\b|\b3yni\b|\boeil\b|\byeux\b|\bwdni\b|\boreille\b|\bsnani\b|\bdents?\b|\bdahri\b"
            r"|\bdos\b|\bkarchi\b|\bkerch\b|\bventre\b|\bdra3i\b|\bbras\b|\byddi\b|\bmain\b|\bf rasi\b"
            r"|\btete\b|\bwjhi\b|\bvisage\b|\bjesmi\b|\bcorps\b|\bsymptom\w*|\bmaladie\b|\bmrida\b",
            _ar(
                "عيني*|ودني*|اذني*|سناني*|اسناني*|ضهري*|ظهري*|كرشي*|بطني*|دراعي*|ذراعي*|يدي|وجهي*|جسمي*|اعراض*|صداع*|مريضه*|مرض"
            ),
        ),
    ),
    # -- accompaniment ----------------------------------------------------------
    (
        "accompany",
        _rx(
            r"\bm3aya\b|\bmaaya\b|\bymchi m3aya\b|\btji m3aya\b|\btmchi m3aya\b|\byrafe9ni\b"
            r"|\btrafe9ni\b|\brafe9\w*|\baccompagn\w*|\bavec moi\b|\bvenir avec\b|\bvienne avec\b|\bm emmene\b"
            r"|\bm amener\b|\bm emmener\b|\ba cote de moi\b|\bykon m3aya\b|\bykoun m3aya\b|\bydwini\b|\byweslni\b",
            _ar(
                "معايا*|يمشي معايا|تجي معايا|ترافقني*|يرافقني*|مرافقه*|يرافقو*|يوصلني*|يديني*|معي|يرافقني*|بجانبي*|حدايا*"
            ),
        ),
    ),
    (
        "alone",
        _rx(
            r"\bbo7di\b|\bbohdi\b|\bbou7di\b|\bseule?\b|\btoute seule\b",
            _ar("بوحدي*|وحدي*|بمفردي*"),
        ),
    ),
    (
        "police",
        _rx(
            r"\bl?bolis\b|\bl?boulis\b|\bpolice\b|\bcommissariat\b|\bl?komissariya\b|\bgendarm\w*|\bdarak\b",
            _ar("البوليس*|بوليس*|الشرطه*|شرطه*|الكوميساريه*|الدرك*"),
        ),
    ),
    # -- emergency --------------------------------------------------------------
    (
        "danger_now",
        _rx(
            r"\bdaba\b|\bmaintenant\b|\ben ce moment\b|\bvite\b",
            _ar("دابا*|الان*|حاليا*|بسرعه*"),
        ),
    ),
    (
        "save_me",
        _rx(
            r"\b3t[ae]?[q9]\w*|\b3ti9ouni\b|\bsecours\b|\ba l aide\b|\baidez moi\b|\b3awnouni\b|\bsa3douni\b"
            r"|\bhelp\b|\bsos\b|\burgen\w*",
            _ar("عتقوني*|عتقني*|النجده*|انقذوني*|انقذني*|ساعدوني*|عاونوني*|الحقوني*"),
        ),
    ),
    (
        "weapon_threat",
        _rx(
            r"\bwlad l7ram\b|\bbandits?\b|\bydrbouni\b|\bdernier jour\b|\bakhir nhar\b|\bme tue\b|\bl?mo+s\b|\bjenwi\b|\bsekk?in\b|\bcouteau\b|\barme\b|\b[ynt]?[q9k]t[ae]?l\w*|\btuer\b"
            r"|\b[ynt]?db[ae]?7\w*|\begorg\w*|\bkhn[ae]?[q9]\w*|\betrangl\w*",
            _ar(
                "اخر نهار|اخر يوم|ولاد الحرام|موس|الموس*|سكين*|جنوي*|سلاح*|يقتل*|نقتل*|سيقتل*|قتل|يدبح*|يذبح*|ذبح|خنق"
            ),
        ),
    ),
    (
        "locked_door",
        _rx(
            r"\blbab\b|\bdevant la porte\b|\bla porte a cle\b|\bcasse la porte\b|\bdefonce\w*|\bsed 3liya\b|\bsd 3liya\b|\bmsedda\b|\b9fel\b|\b9fl\b|\benferme\w*"
            r"|\b7bsni\b|\bdkhl 3liya\b|\bdkhl\b|\bjay\b|\bil arrive\b|\barrive pour\b|\btab3ni\b|\bpoursuit\b|\bsuit\b",
            _ar(
                "الباب*|سد عليا|مسدوده*|قفل|حبسني*|محتجزه*|دخل عليا|جاي|قادم*|تابعني*|يلاحقني*|يطاردني*|كيتبعني*"
            ),
        ),
    ),
    (
        "beating",
        _rx(
            r"\b(?:kay|ka)?y?dr[ae]?b\w*|\bfrapp\w*|\bbat\b|\bbattue\b|\bcoups\b",
            _ar("ضرب|كيضرب*|يضرب*|يضربني*"),
        ),
    ),
    (
        "association",
        _rx(
            r"\bjam3i?ya\b|\bjm3ia\b|\bassociation\b|\bl association\b|\bcentre\b|\blmarkaz\b|\bmarkaz\b",
            _ar("جمعيه*|الجمعيه*|المركز*|مركز"),
        ),
    ),
    # -- conversation -----------------------------------------------------------
    (
        "human",
        _rx(
            r"\bmostachar\w*|\bmas2oul\w*|\bmasoul\w*|\bgens qui travaillent\b|\bdes gens\b|\bquelqu un de reel\b|\bbnadem\b|\binsan\b|\bhumain\b|\bhuman\b|\bpersonne\b|\bvraie personne\b|\brobot\b|\bbot\b"
            r"|\bmachine\b|\blmachina\b|\bautomati\w*|\bprogramme?\b|\bagent\b|\bconseiller\w*|\bresponsable\b"
            r"|\bmas2oul\b|\bassistante? sociale\b|\b7a9i9i\w*|\breel\w*|\bvrai\w*",
            _ar(
                "شخص حقيقي|شخصا حقيقيا|مع شخص|شخص يجيبني|مستشار*|موظف*|الموظفين*|بنادم*|انسان*|روبو*|روبوت*|بوت|ماكينه*|الماكينه*|الاله*|برنامج*|مستشاره*|المسوول*|المسووله*|مساعده اجتماعيه|حقيقي*|حقيقيه*|موظفه*|الخدامين*|العاملين*|اوتوماتيك*"
            ),
        ),
    ),
    (
        "answer_me",
        _rx(
            r"\btjaweb\w*|\btjawb\w*|\byjaweb\w*|\byjawb\w*|\brepond\w*|\breponse\b|\blit\b|\bkay9ra\b"
            r"|\btawasol\b|\bytwasel\b",
            _ar("تجاوبني*|يجاوبني*|يجيبني*|تجيبني*|يجيب*|رد|ردا|يقرا*|كيقرا*|يتواصل*|تواصل*"),
        ),
    ),
    (
        "call_me",
        _rx(
            r"\b3ay[ae]?t\w*|\b3iyet\w*|\bappel\w*|\btelephone\b|\btilifoun\b|\bnumero\b|\bra9m\b|\bnmra\b"
            r"|\bb sout\b|\bvoix\b|\bcontact\w*|\bytsel\b|\bcall\b",
            _ar(
                "عيط|عيطو*|اتصل*|اتصلوا*|يتصل*|مكالمه*|الرقم*|رقم|نمره*|النمره*|بالصوت*|صوت|الهاتف*|التيليفون*"
            ),
        ),
    ),
    (
        "erase_stop",
        _rx(
            r"\bnsed\b|\bsed\b|\bfermer\b|\bferme\w*|\b9te3\b|\bqte3\b|\bsuffit\b|\boubliez\b|\bghanmsa7\b|\bghadi nmsa7\b|\bms[ae]?7\w*|\barrete\b|\barretez\b|\barreter\b|\bmse7\b|\bhyed\b|\b7iyed\b|\befface\w*|\bsupprim\w*|\bstop\w*|\bsafi\b|\bbaraka\b"
            r"|\bkhla?s+\b|\b7bes\b|\b7bs\b|\bsed\b|\boubli\w*|\bnsaw\b"
            r"|\bconversation\b|\bmessages\b|\blmessages\b|\bwa9ef\b|\bsali\b",
            _ar(
                "ساغلق*|نسد|قطع|نساو|انسوا|نمسح*|مسح|امسح*|حيد|احذف*|حذف|توقف*|وقف|بركه*|صافي*|خلاص*|حبس|سد|اغلق*|كفي|يكفي*|انسو*|انسوا*|المحادثه*|الرسايل*|الميساجات*|الغا*|انتهي*"
            ),
        ),
    ),
    (
        "someone_coming",
        _rx(
            r"\bja\b|\bjat\b|\bjaw\b|\bjay\b|\bil arrive\b|\bqui arrive\b|\barrive\b(?! a| pas| plus)|\best la\b|\brentre\b|\bregarde\b|\bkaychouf\b|\bdkhl\b",
            r"(?:^| )[وف]?(?:جا|جات|جاو|جاي|دخل|قادم|قريب|كيشوف|ينظر|جاني|جاتني)\b",
        ),
    ),
    (
        "greeting",
        _rx(
            r"\bsala+m\w*|\bslm\b|\bslt\b|\bsalut\b|\bbonjour\w*|\bbjr\b|\bbonsoir\b|\bbsr\b|\bcoucou\b"
            r"|\bcc\b|\bahla\w*|\bmer7ba\b|\bmarhba\b|\bmrhba\b|\bsba7 lkhir\b|\bmsa lkhir\b|\bhello\b|\bhi\b"
            r"|\ballo\b|\blabas\b",
            _ar(
                "السلام*|سلام*|مرحبا*|اهلا*|اهلين*|صباح الخير|مسا الخير|صباح النور|لاباس*|تحيه*|تحياتي*"
            ),
        ),
    ),
    (
        "lost",
        _rx(
            r"\bma3r[ae]?f?tch?\b|\bma3rfch\b|\bma n3rfch\b|\bsais pas\b|\bsais plus\b|\bjsp\b|\bperdue?\b"
            r"|\bquoi faire\b|\bchno ndir\b|\bach ndir\b|\bfin nmchi\b|\bm7ayra\b|\bmhayra\b|\bta[y]?7a\b"
            r"|\bhesite\b|\bvers qui\b|\bpar ou commencer\b|\b3ar?fa rasi\b",
            _ar(
                "ماعرفتش|ماعرفش|منعرفش|ماكنعرفش|لا اعرف|لم اعد اعرف|محتاره*|محيره*|ضايعه*|تايهه*|الضياع*|متردده*|شنو ندير|اش ندير|ماذا افعل|الجا"
            ),
        ),
    ),
    (
        "trust",
        _rx(
            r"\bnthi9\b|\bkanthi9\b|\bconfiance\b|\bconfier\b|\bthi9a\b",
            _ar("نتيق*|كنتيق*|اثق|الثقه*|نثق*|ابوح*"),
        ),
    ),
    # -- listening --------------------------------------------------------------
    (
        "talk",
        _rx(
            r"\bnhdr\b|\bnhder\b|\bnhdar\b|\bntkellem\b|\bntkelem\b|\bparler\b|\bnparler\b|\becout\w*"
            r"|\bysm[ae]?3ni\b|\btsm3ni\b|\bnfdfd\b|\bconseil\w*|\bnasi7a\b|\borient\w*|\bwjhouni\b"
            r"|\bnchawer\w*|\bmochkil\w*|\bmouchkil\w*|\bmachakil\b|\bprobleme?s?\b|\bsouci\b|\bperdue\b|\bta[y]?7a\b",
            _ar(
                "نهضر*|نهدر*|نتكلم*|اتكلم*|اتحدث*|يسمعني*|يسمع*|تسمعني*|نفضفض*|نصيحه*|انصحوني*|توجيه*|وجهوني*|نشاور*|استشير*|مشكل*|مشكله*|مشاكل*|ضايعه*|تايهه*"
            ),
        ),
    ),
    # -- out of scope -----------------------------------------------------------
    (
        "off_topic",
        _rx(
            r"\bpleuvoir\b|\bpluie\b|\btchta\b|\bheure\b|\bsa3a\b|\bweekend\b|\bcapitale\b|\bredal\b|\blydec\b|\bonee\b|\brestaurant\b|\bnbi3\b|\bnchri\b|\bacheter\b|\bvendre\b|\bfilm\b|\bmusique\b|\bfoot\b|\bkhedma\b|\btravail\b|\bjob\b|\bmatch\b|\brecette\b|\bta9s\b|\bmeteo\b|\bvisa\b"
            r"|\binstagram\b|\bfollowers\b|\babonnes\b|\bwifi\b|\bbac\b|\bconcours\b|\bpromo\w*|\brecharge\w*"
            r"|\bforfait\b|\bvoiture\b|\btomobil\b|\btelephone\b|\bbus\b|\bramadan\b|\bblague\b|\bnokta\b"
            r"|\bchanter\b|\btghenni\b|\bmouton\b|\b7olli\b|\bfac\b|\bmassar\b|\bmasar\b|\bcnss\b|\bharira\b"
            r"|\btajine\b|\bgateau\b|\bloto\b|\bwafacash\b|\bmcdo\b|\bmac do\b|\bmauvais numero\b|\bghalta\b",
            _ar(
                "تشتا*|تمطر*|شتا|الساعه*|الويكاند*|عطله*|عاصمه*|نبيع*|نشري*|اشتري*|ابيع*|فيلم*|الموسيقي*|الكوره*|خدمه*|وظيفه*|ماتش*|مباراه*|وصفه*|الطقس*|طقس|فيزا*|تاشيره*|انستغرام*|الفولوورز*|المتابعين*|الويفي*|الباك*|بروموسيون*|عروض*|رصيد*|طوموبيل*|سياره*|الطوبيس*|حافله*|رمضان*|نكته*|تغني*|الغنا*|الحولي*|الاضحيه*|الجامعه*|مسار*|الضمان الاجتماعي|الحريره*|الطاجين*|مطعم*|ماكدونالد*|غلطت*|اخطات*|عاصمه*|قصيده*|اغنيه*"
            ),
        ),
    ),
)


def concepts(norm: str) -> list[str]:
    """Concept tokens for `normalize()`d text, e.g. ["c_lawyer", "c_divorce"]."""
    found = scripts(norm)
    return [f"c_{name}" for name, pattern in CONCEPTS if pattern.search_in(norm, found)]
