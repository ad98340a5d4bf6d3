"""Model validation that asks the database once for all of a model's check constraints."""

from __future__ import annotations

from django.core.exceptions import FieldError, ValidationError
from django.db import models, router


def checks_hold(instance: models.Model, model, checks: list, exclude, using: str) -> bool:
    """Whether every one of ``checks`` holds for ``instance``, in one query.

    Django's ``CheckConstraint.validate`` runs one query per constraint, each in a savepoint of
    its own (three statements); ANDed under ``Q.check``'s ``COALESCE(…, TRUE)`` the conditions
    give the same verdict (a NULL condition passes, as in the database) in one. A condition on an
    excluded field is a ``FieldError``: the constraints are then validated one by one, as
    Django does, so that only that one is skipped.
    """
    against = instance._get_field_expression_map(meta=model._meta, exclude=exclude)
    try:
        return models.Q(*(check.condition for check in checks)).check(against, using=using)
    except FieldError:
        return False


class ChecksInOneQuery:
    """Mixed into a model before ``models.Model``: ``full_clean`` checks its constraints with one
    query where all hold (a save from the admin, each record of a catalogue load); where one
    fails, each is asked again, so the errors are exactly Django's."""

    def validate_constraints(self, exclude=None):
        using = router.db_for_write(type(self), instance=self)
        errors = {}
        for model, constraints in self.get_constraints():
            checks = [item for item in constraints if isinstance(item, models.CheckConstraint)]
            if checks and checks_hold(self, model, checks, exclude, using):
                constraints = [item for item in constraints if item not in checks]
            for constraint in constraints:
                try:
                    constraint.validate(model, self, exclude=exclude, using=using)
                except ValidationError as error:
                    fields = getattr(constraint, "fields", ())
                    if getattr(error, "code", None) == "unique" and len(fields) == 1:
                        errors.setdefault(fields[0], []).append(error)
                    else:
                        errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
