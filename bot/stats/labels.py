"""What analysts read: the names of dimensions and of their values, in French and
Arabic. Places take their names from the reference data (`geography`)."""

from __future__ import annotations

from typing import Final

from bot.stats.aggregates import OTHER, UNKNOWN, UNSPECIFIED
from bot.stats.geography import Geography

LANGS: Final = ("fr", "ar")

_VALUES: Final[dict[str, tuple[str, str]]] = {
    # needs
    "need_listening": ("Écoute et orientation", "الاستماع والتوجيه"),
    "need_legal": ("Aide juridique", "المساعدة القانونية"),
    "need_psychological": ("Soutien psychologique", "الدعم النفسي"),
    "need_shelter": ("Hébergement", "الإيواء"),
    "need_medical": ("Soins médicaux", "العلاج الطبي"),
    "need_accompaniment": ("Accompagnement", "المرافقة"),
    # violence types (GBVIMS, plus digital)
    "rape": ("Viol", "الاغتصاب"),
    "sexual_assault": ("Agression sexuelle", "الاعتداء الجنسي"),
    "physical": ("Violence physique", "العنف الجسدي"),
    "forced_marriage": ("Mariage forcé", "الزواج القسري"),
    "economic": ("Violence économique", "العنف الاقتصادي"),
    "psychological": ("Violence psychologique", "العنف النفسي"),
    "digital": ("Violence numérique", "العنف الرقمي"),
    # urgency
    "urgent": ("Urgent", "مستعجل"),
    "not_urgent": ("Non urgent", "غير مستعجل"),
    # channels
    "simulator": ("Simulateur", "المحاكي"),
    "terminal": ("Terminal", "الطرفية"),
    "telegram": ("Telegram", "تيليغرام"),
    "sms": ("SMS", "رسائل قصيرة"),
    "whatsapp": ("WhatsApp", "واتساب"),
    # language varieties
    "ary": ("Darija (arabe)", "الدارجة (بالحروف العربية)"),
    "ary_latn": ("Darija (latin)", "الدارجة (بالحروف اللاتينية)"),
    "ar": ("Arabe standard", "العربية الفصحى"),
    "fr": ("Français", "الفرنسية"),
    # buckets
    UNKNOWN: ("Lieu inconnu", "مكان غير معروف"),
    UNSPECIFIED: ("Non précisé", "غير محدد"),
    OTHER: ("Autre", "أخرى"),
}

DIMENSION_NAMES: Final[dict[str, tuple[str, str]]] = {
    "region": ("Région", "الجهة"),
    "province": ("Province", "الإقليم"),
    "month": ("Mois", "الشهر"),
    "need": ("Besoin", "الحاجة"),
    "violence": ("Type de violence", "نوع العنف"),
    "urgency": ("Urgence", "الاستعجال"),
    "channel": ("Canal", "القناة"),
    "language": ("Variété de langue", "اللغة"),
}


def value_label(dimension: str, key: str, lang: str, geography: Geography) -> str:
    """The name of one value of a dimension (a month reads as itself)."""
    if dimension == "region" and key in geography.regions:
        return geography.regions[key].name(lang)
    if dimension == "province" and key in geography.provinces:
        return geography.provinces[key].name(lang)
    pair = _VALUES.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "ar" else pair[0]


def dimension_label(dimension: str, lang: str) -> str:
    pair = DIMENSION_NAMES[dimension]
    return pair[1] if lang == "ar" else pair[0]
