"""The judged query set: searches as patients, carers, clinicians and consultants type them.

Each query is worded as people write it (patient organisations' pages, the EPARs' "overview"
summaries, clinicians' and trade-press shorthand), not from the search code. ``must`` are the
products that must all come in the first three results of the public list's default selection
(published products that hold or have held an authorisation, best first); for broad queries,
``within`` lists the products any of which is a right answer and the first three must all be
among them. The set passes at 95 % or better; the score is printed (``pytest -s``).
"""

from dataclasses import dataclass

from products.models import Product


@dataclass(frozen=True)
class Judgement:
    query: str
    must: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    source: str = ""


CD19_CAR_T = ("kymriah", "yescarta", "tecartus", "breyanzi", "aucatzyl")
CAR_T = (*CD19_CAR_T, "abecma", "carvykti")
CARTILAGE = ("spherox", "maci", "chondrocelect")
LARGE_B_CELL = ("kymriah", "yescarta", "breyanzi")
ALL = ("kymriah", "tecartus", "aucatzyl")
AAV = ("zolgensma", "itvisma", "luxturna", "hemgenix", "roctavian", "beqvez", "upstaza", "glybera")
LENTIVIRAL_HSC = ("zynteglo", "skysona", "libmeldy", "casgevy", "strimvelis")

JUDGEMENTS = [
    # Parents and patients: brand names misremembered, lay names, abbreviations.
    Judgement("kimriah", ("kymriah",), source="a parent spelling the name heard from a doctor"),
    Judgement("luxtruna", ("luxturna",), source="letters swapped"),
    Judgement("zolgensma", ("zolgensma",)),
    Judgement("zolgensma sma", ("zolgensma",)),
    Judgement("hemgenics", ("hemgenix",), source="the name as it sounds"),
    Judgement("strimvellis", ("strimvelis",)),
    Judgement("spinal muscular atrophy", ("zolgensma", "itvisma"), source="SMA UK"),
    Judgement("spinal muscular atrophy children", ("zolgensma", "itvisma"), source="SMA UK"),
    Judgement("sma", ("zolgensma", "itvisma"), source="SMA UK, TreatSMA"),
    Judgement("SMA gene therapy", ("zolgensma", "itvisma"), source="TreatSMA"),
    Judgement("inherited retinal disease", ("luxturna",), source="Retina UK"),
    Judgement("blindness", ("luxturna",), source="Fighting Blindness"),
    Judgement("eye", ("luxturna", "holoclar"), source="a parent browsing"),
    Judgement("retinitis pigmentosa", ("luxturna",), source="Retina UK"),
    Judgement("leber congenital amaurosis", ("luxturna",), source="Luxturna EPAR summary"),
    Judgement(
        "gene therapy for haemophilia B", ("hemgenix", "beqvez"), source="Haemophilia Society"
    ),
    Judgement("hemophilia A", ("roctavian",), source="World Federation of Hemophilia"),
    Judgement("hemophilia gene therapy", ("roctavian", "hemgenix", "beqvez")),
    Judgement("butterfly skin", ("vyjuvek",), source="DEBRA: 'the butterfly skin charity'"),
    Judgement("epidermolysis bullosa", ("vyjuvek",), source="DEBRA"),
    Judgement("bubble boy disease", ("strimvelis",), source="news wording for SCID"),
    Judgement("ADA-SCID", ("strimvelis",), source="Strimvelis EPAR summary"),
    Judgement("sickle cell", ("casgevy",), source="Sickle Cell Society"),
    Judgement("cure for sickle cell disease", ("casgevy",), source="Sickle Cell Society"),
    Judgement("beta thalassemia", ("casgevy", "zynteglo"), source="Thalassaemia International"),
    Judgement("thalassaemia treatment", ("casgevy", "zynteglo"), source="UK Thalassaemia Society"),
    Judgement("MLD", ("libmeldy",), source="MLD Support Association"),
    Judgement("metachromatic leukodystrophy", ("libmeldy",), source="Libmeldy EPAR summary"),
    Judgement("AADC deficiency", ("upstaza",), source="AADC Research Trust"),
    Judgement("knee cartilage repair", within=CARTILAGE, source="a patient after a sports injury"),
    Judgement("cornea stem cells", ("holoclar",), source="Holoclar EPAR summary"),
    Judgement("bladder cancer", ("adstiladrin",), source="Fight Bladder Cancer"),
    Judgement("prostate cancer", ("provenge",), source="Prostate Cancer UK"),
    Judgement("crohn's fistula", ("alofisel",), source="Crohn's & Colitis UK"),
    Judgement("myeloma", ("abecma", "carvykti"), source="Myeloma UK"),
    Judgement("lymphoma after transplant EBV", ("ebvallo",), source="Ebvallo EPAR summary"),
    Judgement("cord blood transplant", ("zemcelpro",), source="Anthony Nolan"),
    # Clinicians: INNs, shorthand, indications as written in the EPARs.
    Judgement("tisagenlecleucel", ("kymriah",)),
    Judgement("onasemnogene abeparvovec", ("zolgensma", "itvisma")),
    Judgement("voretigene", ("luxturna",)),
    Judgement("etranacogene dezaparvovec", ("hemgenix",)),
    Judgement("axi-cel", ("yescarta",), source="haematologists' shorthand"),
    Judgement("tisa-cel", ("kymriah",), source="haematologists' shorthand"),
    Judgement("cilta-cel", ("carvykti",), source="haematologists' shorthand"),
    Judgement("ide-cel", ("abecma",), source="haematologists' shorthand"),
    Judgement("liso-cel", ("breyanzi",), source="haematologists' shorthand"),
    Judgement("exa-cel", ("casgevy",), source="haematologists' shorthand"),
    Judgement("CAR T", within=CAR_T, source="written with a space"),
    Judgement("CAR-T cell therapy lymphoma", within=CD19_CAR_T),
    Judgement("car t leukemia", within=ALL),
    Judgement("multiple myeloma CAR-T", ("abecma", "carvykti")),
    Judgement("mantle cell lymphoma", ("tecartus",), source="Tecartus EPAR summary"),
    Judgement("DLBCL", within=LARGE_B_CELL, source="Lymphoma Action"),
    Judgement("large B-cell lymphoma", within=LARGE_B_CELL, source="Lymphoma Action"),
    Judgement("acute lymphoblastic leukaemia", within=ALL, source="Leukaemia UK"),
    Judgement("limbal stem cell deficiency", ("holoclar",), source="Holoclar EPAR summary"),
    Judgement("PTLD", ("ebvallo",), source="Ebvallo EPAR summary"),
    Judgement("cerebral adrenoleukodystrophy", ("skysona",), source="ALD Life"),
    # Consultants and journalists: former names, numbers, platforms, holders.
    Judgement("durveqtix", ("beqvez",), source="the name before the renaming"),
    Judgement("EMEA/H/C/004090", ("kymriah",)),
    Judgement("oncolytic virus melanoma", ("imlygic",)),
    Judgement("CRISPR", ("casgevy",)),
    Judgement("gene editing", ("casgevy",)),
    Judgement("AAV gene therapy", within=AAV),
    Judgement("lentiviral stem cell gene therapy", within=LENTIVIRAL_HSC),
    Judgement("bluebird bio", ("zynteglo", "skysona")),
]


def passes(judgement: Judgement, top: list[str]) -> bool:
    if not top:
        return False
    if judgement.must and not set(judgement.must) <= set(top):
        return False
    return not judgement.within or set(top) <= set(judgement.within)


def top_three(query: str) -> list[str]:
    found = Product.objects.published().held_authorisation().search(query).order_by_relevance()
    return list(found.values_list("slug", flat=True)[:3])


def test_the_judged_query_set_has_forty_or_more_distinct_queries():
    queries = [j.query.lower() for j in JUDGEMENTS]
    assert len(queries) >= 40
    assert len(set(queries)) == len(queries)
    assert all(j.must or j.within for j in JUDGEMENTS)


def test_the_judged_query_set_scores_95_percent_or_better(catalogue):
    failures = []
    for judgement in JUDGEMENTS:
        top = top_three(judgement.query)
        if not passes(judgement, top):
            failures.append(f"{judgement.query!r}: {top}")
    score = 1 - len(failures) / len(JUDGEMENTS)
    print(f"\njudged query set: {score:.1%} of {len(JUDGEMENTS)}; failing: {failures}")
    assert score >= 0.95, failures


def test_a_judgement_fails_when_a_required_product_is_missing():
    judgement = Judgement("sma", ("zolgensma", "itvisma"))
    assert passes(judgement, ["itvisma", "zolgensma"])
    assert not passes(judgement, ["zolgensma", "kymriah", "luxturna"])
    assert not passes(Judgement("CAR T", within=CAR_T), ["kymriah", "spherox"])
    assert not passes(judgement, [])
