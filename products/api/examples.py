"""Example responses shown in the OpenAPI schema, taken from the catalogue's real data.

List examples give one item; drf-spectacular wraps them in the paginated envelope.
"""

from drf_spectacular.utils import OpenApiExample

BASE = "http://127.0.0.1:8000"

KYMRIAH = {
    "slug": "kymriah",
    "name": "Kymriah",
    "aliases": [],
    "inn": "tisagenlecleucel",
    "ema_product_number": "EMEA/H/C/004090",
    "category": {
        "slug": "gene-therapy",
        "name": "Gene therapy medicinal product",
        "abbreviation": "GTMP",
    },
    "mechanisms": [{"slug": "cd19-car-t", "name": "CD19-directed CAR-T cells"}],
    "platform": "CAR-T (lentiviral vector)",
    "target": "CD19 CAR",
    "cell_source": "autologous",
    "delivery": "ex-vivo",
    "route_of_administration": "single intravenous infusion after lymphodepleting chemotherapy",
    "indications": [
        {
            "condition": "Relapsed or refractory diffuse large B-cell lymphoma",
            "population": "adults after two or more lines of systemic therapy",
            "therapeutic_area": [
                {"slug": "lymphoma-large-b-cell-diffuse", "name": "Lymphoma, Large B-Cell, Diffuse"}
            ],
            "orphan": True,
        },
        {
            "condition": "Relapsed or refractory follicular lymphoma",
            "population": "adults after two or more lines of systemic therapy; added 29 Apr 2022",
            "therapeutic_area": [{"slug": "lymphoma-follicular", "name": "Lymphoma, Follicular"}],
            "orphan": True,
        },
    ],
    "holder": {"slug": "novartis-europharm-limited", "name": "Novartis Europharm Limited"},
    "status": "authorised",
    "status_date": None,
    "status_reason": None,
    "authorisation_date": "2018-08-23",
    "authorisation_date_partial": None,
    "conditional": False,
    "exceptional_circumstances": False,
    "accelerated_assessment": None,
    "prime": True,
    "orphan": True,
    "atc_code": "L01XL04",
    "epar_url": "https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah",
    "description": "Kymriah (tisagenlecleucel) is a CAR-T cell therapy for hard-to-treat B-cell "
    "acute lymphoblastic leukaemia in children and young adults up to 25 years old, and for "
    "diffuse large B-cell lymphoma and follicular lymphoma in adults after two or more earlier "
    "treatments.",
    "events": [
        {
            "kind": "positive-opinion",
            "date": None,
            "date_partial": "2018-06",
            "note": "CHMP positive opinion; with Yescarta, one of the first two PRIME-supported "
            "medicines to reach this step.",
        },
        {
            "kind": "initial-authorisation",
            "date": "2018-08-23",
            "date_partial": None,
            "note": "The European Commission granted the marketing authorisation to Novartis "
            "Europharm Limited.",
        },
        {
            "kind": "extension-of-indication",
            "date": "2022-04-29",
            "date_partial": None,
            "note": "Indication extended to adults with relapsed or refractory follicular "
            "lymphoma after two or more lines of systemic therapy.",
        },
    ],
    "sources": [
        "EMA medicines data export generated from ema.europa.eu on 27/10/2025",
        "https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah",
        "https://www.ema.europa.eu/en/medicines/human/orphan-designations/eu3141266",
        "https://esmo.org/oncology-news/ema-recommends-extension-of-therapeutic-indications-for-"
        "tisagenlecleucel",
    ],
    "source_links": [
        {
            "title": "EMA: European public assessment report (EPAR) for Kymriah",
            "url": "https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah",
            "publisher": "European Medicines Agency",
        },
        {
            "title": "EMA: medicines data export of 27 October 2025",
            "url": None,
            "publisher": "European Medicines Agency",
        },
        {
            "title": "EMA: orphan designation EU/3/14/1266",
            "url": "https://www.ema.europa.eu/en/medicines/human/orphan-designations/eu3141266",
            "publisher": "European Medicines Agency",
        },
        {
            "title": "News report: esmo.org",
            "url": "https://esmo.org/oncology-news/ema-recommends-extension-of-therapeutic-"
            "indications-for-tisagenlecleucel",
            "publisher": "ESMO",
        },
    ],
    "unverified": [
        "Whether it had an accelerated assessment (sources conflict)",
        "Whether the second indication had an orphan designation (the designation is confirmed; "
        "whether it was kept at authorisation was not checked)",
    ],
    "url": f"{BASE}/api/v1/products/kymriah/",
    "html_url": f"{BASE}/products/kymriah/",
    "updated_at": "2026-11-22T03:04:41.898205+01:00",
}

PRODUCT = OpenApiExample("Kymriah", value=KYMRIAH, response_only=True)
PRODUCT_LIST = OpenApiExample("Products", value=KYMRIAH, response_only=True)


def term_example(title: str, path: str, parameter: str, *, page: bool, **values) -> OpenApiExample:
    """A vocabulary term as its list gives it: its values, then its links (``path`` of its URLs)."""
    slug = values["slug"]
    links = {"url": f"{BASE}/api/v1/{path}/{slug}/"}
    if page:
        links["html_url"] = f"{BASE}/{path}/{slug}/"
    links["products_url"] = f"{BASE}/api/v1/products/?{parameter}={slug}"
    return OpenApiExample(title, value={**values, **links}, response_only=True)


CATEGORY_LIST = term_example(
    "Categories",
    "categories",
    "category",
    page=True,
    slug="gene-therapy",
    name="Gene therapy medicinal product",
    abbreviation="GTMP",
    definition="A medicine whose active part is a recombinant nucleic acid — a gene, or a tool "
    "that edits or switches genes — given to add, repair, replace or remove a genetic sequence "
    "in the body, and whose effect comes directly from that sequence or what it makes.",
    product_count=23,
)
THERAPEUTIC_AREA_LIST = term_example(
    "Therapeutic areas",
    "therapeutic-areas",
    "therapeutic_area",
    page=True,
    slug="hemophilia-b",
    name="Hemophilia B",
    product_count=2,
)
MECHANISM_LIST = term_example(
    "Mechanisms",
    "mechanisms",
    "mechanism",
    page=False,
    slug="cd19-car-t",
    name="CD19-directed CAR-T cells",
    description="The patient's own T cells are collected and genetically modified in a "
    "laboratory so that they carry a chimeric antigen receptor (CAR) that recognises the CD19 "
    "protein on B cells.",
    product_count=5,
)
HOLDER_LIST = term_example(
    "Holders",
    "holders",
    "holder",
    page=False,
    slug="novartis-europharm-limited",
    name="Novartis Europharm Limited",
    product_count=3,
)
