"""factory_boy factories for the catalogue's models (extra products beside the real catalogue)."""

import datetime

import factory

from products import models
from products.choices import CellSource, Delivery, EventKind, Status


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Category
        django_get_or_create = ("slug",)

    slug = "gene-therapy"
    name = "Gene therapy medicinal product"
    abbreviation = "GTMP"
    definition = "A medicine whose active part is a recombinant nucleic acid."
    position = 1


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Company

    name = factory.Sequence(lambda n: f"Factory Holder {n} B.V.")
    slug = factory.Sequence(lambda n: f"factory-holder-{n}-b-v")


class TherapeuticAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TherapeuticArea

    name = factory.Sequence(lambda n: f"Factory Disease {n}")
    slug = factory.Sequence(lambda n: f"factory-disease-{n}")


class MechanismOfActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MechanismOfAction

    name = factory.Sequence(lambda n: f"Factory mechanism {n}")
    slug = factory.Sequence(lambda n: f"factory-mechanism-{n}")
    description = "How products of this kind work."


class ProductFactory(factory.django.DjangoModelFactory):
    """A published, authorised gene therapy with one holder, mechanism, indication and event."""

    class Meta:
        model = models.Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Factorex {n}")
    slug = factory.Sequence(lambda n: f"factorex-{n}")
    inn = factory.Sequence(lambda n: f"factorgene {n} vec")
    category = factory.SubFactory(CategoryFactory)
    holder = factory.SubFactory(CompanyFactory)
    platform = "AAV9"
    target = "SMN1"
    cell_source = CellSource.NONE
    delivery = Delivery.IN_VIVO
    status = Status.AUTHORISED
    authorisation_date = datetime.date(2021, 6, 1)
    is_orphan = True
    is_conditional = False
    is_exceptional_circumstances = False
    is_prime = False
    is_published = True
    sources = factory.LazyAttribute(lambda product: [f"EPAR of {product.name}"])

    @factory.post_generation
    def mechanisms(self, create, extracted, **kwargs):
        if create:
            self.mechanisms.set(extracted or [MechanismOfActionFactory()])

    @factory.post_generation
    def indications(self, create, extracted, **kwargs):
        if create and extracted is None:
            indication = models.Indication.objects.create(
                product=self, condition="A rare factory disease", is_orphan=True
            )
            indication.therapeutic_areas.set([TherapeuticAreaFactory()])

    @factory.post_generation
    def events(self, create, extracted, **kwargs):
        if create and extracted is None and self.authorisation_date:
            models.AuthorisationEvent.objects.create(
                product=self,
                kind=EventKind.INITIAL_AUTHORISATION,
                date=self.authorisation_date,
            )
