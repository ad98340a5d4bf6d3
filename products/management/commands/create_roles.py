"""Create (or bring back in line) the editors' groups: ``curators`` and ``reviewers``.

Idempotent: each run sets each group's permissions to exactly those below, so running it again
after a change of the rules (or of someone's hand edit) restores them.

- ``curators`` add, change and view every catalogue model (history and import runs included) and
  may remove an indication or an event on its product's page; they may not delete a product,
  a vocabulary term or an import run, and have no user management.
- ``reviewers`` view everything, change nothing.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

CATALOGUE_MODELS = (
    "category",
    "mechanismofaction",
    "therapeuticarea",
    "company",
    "product",
    "indication",
    "authorisationevent",
    "importrun",
    "historicalproduct",
    "historicalindication",
    "historicalauthorisationevent",
)
#: Rows a curator may remove, on their product's page (the removal is recorded in the history).
CURATOR_DELETABLE = ("indication", "authorisationevent")

ROLES: dict[str, set[str]] = {
    "curators": {
        *(
            f"{action}_{model}"
            for model in CATALOGUE_MODELS
            for action in ("add", "change", "view")
        ),
        *(f"delete_{model}" for model in CURATOR_DELETABLE),
    },
    "reviewers": {f"view_{model}" for model in CATALOGUE_MODELS},
}


def role_permissions(codenames: set[str]) -> list[Permission]:
    """The permissions of the ``products`` app with these codenames; all must exist."""
    content_types = ContentType.objects.get_for_models(
        *apps.get_app_config("products").get_models()
    ).values()
    found = list(Permission.objects.filter(content_type__in=content_types, codename__in=codenames))
    missing = codenames - {permission.codename for permission in found}
    if missing:
        raise CommandError(
            f"permissions not found: {', '.join(sorted(missing))}; run `manage.py migrate` first"
        )
    return found


class Command(BaseCommand):
    help = "Create or update the groups `curators` (add, change, view) and `reviewers` (view)."

    @transaction.atomic
    def handle(self, *args, **options):
        for name, codenames in ROLES.items():
            group, created = Group.objects.get_or_create(name=name)
            group.permissions.set(role_permissions(codenames))
            verb = "created" if created else "updated"
            self.stdout.write(f"group {name} {verb}: {len(codenames)} permissions")
