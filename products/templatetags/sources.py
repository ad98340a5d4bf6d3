"""Template helpers of a product's "Sources" section (``templates/products/_sources.html``)."""

from __future__ import annotations

from django import template

from products import sources

register = template.Library()


@register.simple_tag
def product_sources(product) -> list[sources.Source]:
    """``{% product_sources product as links %}``: titled sources, the EMA's first."""
    return sources.product_sources(product)


@register.filter
def plain_unverified(entry: str) -> str:
    """An entry of ``Product.unverified_fields`` as a sentence."""
    return sources.plain_unverified(entry)


@register.filter
def plain_verification(value: str, doubts=()) -> str:
    """``product.verification|plain_verification:product.unverified_fields`` in words."""
    return sources.plain_verification(value, doubts or ())


@register.filter
def titled_sources(texts) -> list[sources.Source]:
    """``event.sources|titled_sources``: a timeline event's sources as titled links."""
    return sources.ordered_sources(texts or ())
