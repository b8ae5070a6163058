"""Ordinary words that must not be read as town names.

Many of Morocco's 1,500 communes have short names that are also everyday words in
Darija, French or Arabic ("Safi" is a town and "safi" means "enough"; "Tata" is a
town and an aunt; "صباح" is a commune and "morning"). The gazetteer reads a name
that is one of these words as a town only after a locative word ("f safi",
"à Safi", "في آسفي") or when it is the whole answer to "which town?".

All words are in `normalize()` form (lower case, no accents, Arabic letters unified).
"""

from __future__ import annotations

from typing import Final

from bot.nlu.normalize import normalize

__all__ = ["COMMON_WORDS", "FIRST_NAMES", "LOCATIVE_NOUNS", "LOCATIVE_PREFIXES", "NAME_PARTS"]


def _words(block: str) -> frozenset[str]:
    out: set[str] = set()
    for word in block.split():
        norm = normalize(word)
        if norm:
            out.add(norm)
    return frozenset(out)


# Parts of compound place names that are never a town by themselves
# ("Sidi Slimane", "Aïn Sebaâ", "Bni Mellal", "Oulad Teima", "Had Soualem").
NAME_PARTS: Final[frozenset[str]] = _words(
    """
    sidi si sid sidna moulay mly my lalla lala ain aine 3in 3ine ayn aioun 3ioun
    bni beni bani oulad ouled awlad wlad ولاد ait aït ayt id
    had lhad 7ad tnine letnine tnin tleta tlata tlat arbaa larbaa arba3 larba3 khemis
    khmis lkhmis jemaa jmaa jamaa jem jma3a sebt ssebt souk souq sou9 souk
    dar douar dwar ksar qsar lqsar ben bou bouh bel el al ad ed es er ez et en an ech
    oued wad ras bab hay jbel jebel zaouia zaouiat zawiya zawit zaouiet
    centre ville mdina medina kariat qariat karia bir hassi dcheira sahel haouz
    tizi imi ighil tala tit foum fam
    سيدي سيد مولاي مولا لالة عين عيون بني اولاد ولاد ايت اد احد لحد حد سبت اثنين
    ثلاثاء ثلاثا اربعاء اربعا خميس جمعه جماعه سوق دار دوار قصر بن بو ال واد وادي
    راس باب حي جبل زاويه مركز مدينه قريه بير بئر حاسي تيزي ايمي فم
    """
)

# Nouns that ordinarily follow "f", "fi", "à", "في": never read as a town even there.
LOCATIVE_NOUNS: Final[frozenset[str]] = _words(
    """
    dar ddar darna darhom lbit bit lbit chambre maison lmdina mdina medina lmedina
    centre ville lville lcentre douar dwar lbled bled blad lblad tari9 tariq triq
    ttri9 zan9a zenqa derb hay l7ay lhay quartier rue lkhedma khedma travail boulot
    sbah sba7 ssbah lil lil lyl l3chiya 3chiya lyoum lbar7 lbare7 ghedda ghada
    mosquee jame3 jami3 ljame3 souk souq sou9 ssou9 lmarche marche lmahkama
    mahkama tribunal lcommissariat commissariat kommissariat lbolis lboulis police
    sbitar sbitar lmostachfa hopital lhopital clinique lclinique ecole lmedrasa
    medrasa lycee fac lfac universite jami3a l9ism lcentre lmarkaz markaz
    facebook fb insta instagram whatsapp wts wtsp telegram tiktok snap internet
    telephone tilifoun tel portable lportable hammam l7mam hmam 7mam lhammam
    menzel manzel lmenzel mers lmers marsa lmarsa port lport plage bhar lb7ar
    had lhad l7ad tnin letnin ltnin tnine ltnine tleta ttlat ltleta larba larbaa
    larba3 lkhmis khmis jem3a ljem3a jmaa ljma3a sebt ssebt essebt lsebt
    lundi mardi mercredi jeudi vendredi samedi dimanche
    fransa france lfransa faransa sbanya spania espagne lisbania italia italie
    ltalyan belgique beljika almania allemagne hollanda lmarikan amerique usa canada
    kanada lkhalij saudia sa3oudia dubai qatar libya tunis tounes dzayer algerie
    sebta melilia lbaladiya
    فرنسا فرانسا اسبانيا سبانيا ايطاليا المانيا بلجيكا هولندا امريكا كندا السعوديه
    الخليج دبي قطر ليبيا تونس الجزاير سبته مليليه
    janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
    الحمام حمام المنزل منزل الحد الاثنين الثلاثاء الاربعاء الخميس الجمعه السبت
    المرسي مرسي الشاطي البحر القريه قريه
    aide help msaada msa3ada mousa3ada musa3ada مساعده المساعده مساعدتي مساعدا
    الدار دار الدار البيت بيت المدينه مدينه المركز مركز الدوار دوار البلاد بلاد
    الطريق طريق الزنقه زنقه الدرب درب الحي حي الخدمه خدمه العمل عمل الصباح صباح
    الليل ليل العشيه اليوم البارح غدا غدوه المسجد مسجد الجامع جامع السوق سوق
    المحكمه محكمه الكوميسارية الكوميساريه الشرطه شرطه البوليس المستشفي مستشفي سبيطار
    السبيطار المدرسه مدرسه الجامعه جامعه الفيسبوك فيسبوك الواتساب واتساب الهاتف
    هاتف التيليفون تيليفون
    """
)

# Words that introduce a place: "f tiznit", "fi casa", "à Agadir", "men tanja",
# "في تيزنيت", "من وجدة", "ب الرباط". Attached Arabic forms (فتيزنيت, بالرباط,
# لطنجة) are handled by the gazetteer.
LOCATIVE_PREFIXES: Final[frozenset[str]] = _words(
    """
    f fi fe fel fl f' felle b bi bl bel l men mn min mel ml mne
    sakna saken kanskon kansken sakin skna 9rib qrib 9rayba hda 7da
    a à au aux en de d du des dans vers pres proche habite vis vit ville region
    from in at near
    في ف فال فل ب بال بل من مل ل لل الي الى قرب حدا جنب ساكنه ساكن كنسكن نسكن
    مدينه بمدينه
    """
)

# Common Moroccan first names: "Naima", "Rima", "Hassan", "Saada", "Ameur" are
# also communes.
FIRST_NAMES: Final[frozenset[str]] = _words(
    """
    naima na3ima rima saada sa3ida saida hassan hasan hassane ameur amer amina
    fatima fatiha khadija aicha 3icha zineb zaynab malika karima latifa nadia
    hanane hanan samira souad asmae asma meryem maryam salma sara sanae hajar
    imane iman houda loubna btissam ilham laila leila mouna mina rachida najat
    touria zohra hafsa ghizlane kawtar widad wafae nawal siham yasmine jamila
    mohamed mhamed ahmed said youssef yassine omar ali rachid mustapha abdellah
    brahim ibrahim hamid karim driss aziz hicham khalid mourad nabil redouane
    tata tati mama mima baba
    نعيمه ريما سعاده سعيده حسن حسان عامر امينه فاطمه فتيحه خديجه عائشه عيشه زينب
    مليكه كريمه لطيفه ناديه حنان سميره سعاد اسماء مريم سلمي ساره سناء هاجر ايمان
    هدي لبني ابتسام الهام ليلي مني رشيده نجاه ثريا زهره حفصه غزلان كوثر وداد
    محمد احمد سعيد يوسف ياسين عمر علي رشيد مصطفي عبدالله ابراهيم حميد كريم ادريس
    عزيز هشام خالد مراد نبيل رضوان طاطا ماما بابا
    """
)

_DARIJA_LATIN = """
ana nta nti ntia howa hiya huwa hia hna 7na ntouma homa houma rani rah raha rahom
rak raki wach wash ach ash chno chnou chnu achno ashno chkoun chkun fin fine mnin
imta emta kifach kif kifash 3lach 3lah lach 3la 3lih 3liya 3liha m3a m3aya m3ah
dyal dial dyali diali dyalha dialha dyalo d l had hadi hada hadak hadik hadchi
had chi chi shi chwiya chwia bzaf bezaf bzzaf kter ktar walo walou hta 7ta 7tta
ila ila ola ou o w wla wela walakin walakine lakin mais daba dba db lyoum ghda
ghedda lbareh lbar7 safi saafi safe wakha wakhkha waxa ok okay oki mzyan mzian
zwin zwina khayb 5ayb khayba bghit bghina nbghi bgha bghat kanbghi khassni
5assni khasni 5asni khass ndir dir dirou ndiro kandir kaydir daret dart dar darou
galli gali gal galt gult glt 9al 9alt kan kant kanet kayn kayna kaynin makayn
makaynch makaynach mkaynch ma machi mashi mchi mchit mchat nmchi ji ja jat jaw
jay jaya jayin sir siri sirou ghadi ghad gha ghan ghat kat kay ka tan tat tay
rajli rajel rjal raajel zawji zouj jouj mrati mra mra lmra bnat bent binti bnti
weldi wlidi wlad drari drri lwalida mmi ma ummi bba baba bouya khoya khouya khti
okhti 3a2ila 3ayla l3a2ila famila nass nas lnas chi wahed wa7ed wahda wa7da
hadchi kolchi kulchi koulchi bach bash baach li lli illi ki kima kif bhal b7al
wa wah ewa iwa eh ah la lla lala no non yak yakma ah ih iyeh aywa
salam slm slam salamo alaykom 3alaykom ahlan mer7ba marhba sba7 sbah lkhir
msa lkhir bslama beslama tsbah tsba7 3la khir llah allah lah wallah wellah
wlh 3afak 3afek 3fak afak 3afakoum 3afakom 3afaki chokran choukran shukran
merci mrc baraka barak berk bzaf brasi rasi rassi rasek 9alb 9lbi galbi
mskina meskina mskin meskin hchouma 7chouma 3ib 3ar lhem lhm mochkil mochkila
mouchkil machakil problem probleme hal 7al l7al lhal lwe9t lwa9t we9t wa9t
sa3a sa3at nhar nhara ayam yam chhar chher 3am 3ame lkhedma khdma khdem
khedma flous flouss floos lflous drahem dirham lkra kra tomobil tobis lbus taxi
tilifoun tel portable nmra numero ra9m r9m jiha 9rib b3id b3ida mbe3d
mn3ad qbel 9bel mor mn b3d
media jadid jadida jdid jdida hamra 7amra kebab kbab wlad oulad loulad lwlad
msaada msa3ada saada sa3ada riah ri7 borj hajeb l7ajeb jorf sahrij taous zaida
zayda romani gara fida sifa faid smia smiya nkhila jabha sabbah mdina lmdina
"""

_DARIJA_ARABIC = """
انا نتا نتي نتيا هو هي حنا نتوما هوما راني راه راها راك راكي واش اش شنو شكون
فين منين امتي كيفاش علاش علي عليا عليه عليها معا معايا معاه ديال ديالي ديالها
ديالو هاد هادي هادا هداك هديك هادشي شي شويه بزاف كتر والو حتي ولا ولكن لكن
دابا دبا اليوم غدا غدوه البارح صافي صافي واخا مزيان زوين خايب بغيت بغينا نبغي
كنبغي خاصني خصني ندير دير كندير كيدير دارت دار قالي قال قالت كان كانت كاين كاينه
ماكاينش ماشي مشيت نمشي جا جات جاو جاي جايه سير غادي غاد راجلي راجل زوجي مراتي
مرا المرا بنات بنت بنتي ولدي ولادي دراري الواليده مي بابا خويا ختي العائله
الفاميليا الناس واحد واحده كلشي باش اللي لي كيف بحال اه لا ايه اييه سلام السلام
عليكم مرحبا اهلا صباح الخير مسا بسلامه الله والله عافاك عفاك شكرا بركه براسي راسي
قلبي مسكينه مسكين حشومه عيب العار مشكل مشكله الحال الوقت وقت ساعه نهار ايام شهر عام
الخدمه خدمه الفلوس فلوس دراهم الكرا طوموبيل تاكسي نمره الرقم رقم جيهه قريب بعيد
قبل من بعد مع في علي الي الي عن هذا هذه ذلك تلك هنا هناك هل ما ماذا لماذا كيف متي
اين انا انت انتي نحن هم هن كان يكون ليس لم لن قد كل بعض غير فقط ايضا جدا الان
ثم او و يا اريد اود احتاج اطلب ساعدني مساعده مساعدتي زوجي طليقي ابي امي اخي
اختي عائلتي بيتي منزلي المنزل الشارع العمل المال النقود الشرطه المحكمه محامي
الطبيب المستشفي طبيب شهاده طبيه خوف خايفه خائفه تعبت حزينه وحدي وحيده
صوره صور تصاور التصاور فيديو حساب رساله رسايل ميساجات ميساج
عامر عامره ملعب رياح صباح ثكنه جذور دوره حوزه تقي كير امان ماسه جديده جديد
عيون حسيمه سما سماء نور قصر واحه زهره رحمه سلامه خير
منزل منزله كرامه زيتون مساعده مساعدا نخيل مرسي ريش برج حاجب جرف رتب غدير شهدا
مصابح سواني ساحل صفصاف زايده زايد مناره سهول شعرا شعر شلالات خروب دير حمرا جديده
ولاد نعيمه فدا طاح فيض كاره منصوره سعيديه طاوس حمام عونات رحاله محبس مدينه كويره
"""

_MSA_FRENCH_ENGLISH = """
je j moi me m ma mon mes tu te t toi ta ton tes il elle on nous vous ils elles
le la les l un une des de du d au aux a ou et mais donc or ni car que qu qui quoi
dont ce cet cette ces ca cela ceci c est suis es sommes etes sont ai as avons avez
ont etait ete etre avoir fait faire fais veux veut voudrais peux peut pouvez dois
doit faut besoin aide aider aidez help svp stp merci bonjour bonsoir salut coucou
allo oui non ok pas ne n plus rien tout tous sais sait savoir connais connait
vois voir dis dit dire parle parler ecris ecrire reste rester vais va aller viens
vient venir suis etais toute toutes tres trop bien mal bon
bonne mauvais ici la bas chez dans sur sous avec sans pour par en vers entre
apres avant depuis pendant quand comment pourquoi combien ou maintenant aujourd hui
hier demain matin soir nuit jour semaine mois an ans annee heure heures temps
mari marie femme homme enfant enfants fils fille filles mere pere frere soeur
famille maison appartement rue quartier ville village travail argent salaire
police gendarmerie tribunal juge avocat avocate plainte divorce pension papiers
hopital medecin docteur certificat medical enceinte blessure blesse sang
peur danger seule seul triste fatigue fatiguee mal battu battue frappe frapper
coups viol violee violence violences harcelement chantage photos photo video
compte messages message telephone numero adresse rendez vous rdv centre
sale sales salee rich riche riches safe saint sainte grand grande petit petite
nord sud est ouest haut bas mer plage port gare aeroport
the a an i you he she we they is are was were be have has had do does did not
no yes and or but if in on at to from of for with my me your his her our their
this that there here what where when why how who please thanks thank hello hi
help need want can could would should will sos
"""

COMMON_WORDS: Final[frozenset[str]] = (
    _words(_DARIJA_LATIN)
    | _words(_DARIJA_ARABIC)
    | _words(_MSA_FRENCH_ENGLISH)
    | NAME_PARTS
    | LOCATIVE_NOUNS
    | LOCATIVE_PREFIXES
    | FIRST_NAMES
)
