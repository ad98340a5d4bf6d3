"""The code's own rules (CONTRIBUTING.md) that a reviewer could miss."""

from pathlib import Path

import products

PRODUCTS = Path(products.__file__).parent
MAX_LINES = 700


def test_no_module_of_products_is_over_700_lines():
    lengths = {
        str(path.relative_to(PRODUCTS)): len(path.read_text().splitlines())
        for path in PRODUCTS.rglob("*.py")
        if "migrations" not in path.parts
    }
    assert len(lengths) > 40  # the app's modules were found
    assert {path: n for path, n in lengths.items() if n > MAX_LINES} == {}
