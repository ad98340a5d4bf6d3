"""The closed vocabularies of the catalogue (values as in SPEC.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """The EMA's own eleven "Medicine status" values."""

    AUTHORISED = "authorised", _("Authorised")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Marketing authorisation withdrawn")
    EXPIRED = "expired", _("Expired")
    LAPSED = "lapsed", _("Lapsed")
    REVOKED = "revoked", _("Revoked")
    REFUSED = "refused", _("Refused")
    OPINION = "opinion", _("CHMP opinion, awaiting the Commission's decision")
    UNDER_RE_EXAMINATION = "under-re-examination", _("Under re-examination")
    APPLICATION_WITHDRAWN = "application-withdrawn", _("Application withdrawn")
    WITHDRAWN_FROM_ROLLING_REVIEW = (
        "withdrawn-from-rolling-review",
        _("Withdrawn from rolling review"),
    )


#: Statuses that end or interrupt an authorisation, and so need the date they took effect.
ENDED_OR_SUSPENDED = (
    Status.SUSPENDED,
    Status.WITHDRAWN,
    Status.EXPIRED,
    Status.LAPSED,
    Status.REVOKED,
)
#: Statuses of products that hold or have held an EU marketing authorisation: the default list.
HELD_AUTHORISATION = (Status.AUTHORISED, *ENDED_OR_SUSPENDED)
#: Statuses that have a reason (``Product.status_reason``): an authorisation ended or suspended,
#: an application refused or withdrawn. Lists of them show a *Reason* column.
WITH_REASON = (
    *ENDED_OR_SUSPENDED,
    Status.REFUSED,
    Status.APPLICATION_WITHDRAWN,
    Status.WITHDRAWN_FROM_ROLLING_REVIEW,
)
#: Statuses a published entry must date (``Product.publication_checklist``): not a withdrawal
#: from rolling review, for which the register has no dated, status-changing event.
DATED_STATUSES = tuple(s for s in WITH_REASON if s != Status.WITHDRAWN_FROM_ROLLING_REVIEW)


class CellSource(models.TextChoices):
    AUTOLOGOUS = "autologous", _("Autologous (the patient's own cells)")
    ALLOGENEIC = "allogeneic", _("Allogeneic (a donor's cells)")
    NONE = "none", _("No cells")


class Delivery(models.TextChoices):
    IN_VIVO = "in-vivo", _("In vivo (given directly to the patient)")
    EX_VIVO = "ex-vivo", _("Ex vivo (cells modified or grown outside the body)")
    NONE = "none", _("Not applicable")


#: Each step of a product's regulatory life, in a timeline's order: its value, its label, and the
#: status it leaves the product in (a ``Status`` value, as in SPEC.md; "" where the step does not
#: change it). One line a step: ``EventKind`` and ``STATUS_AFTER_EVENT`` are both read from here.
REGULATORY_STEPS = (
    ("application-submitted", _("Application submitted"), ""),
    ("positive-opinion", _("Positive CHMP opinion"), "opinion"),
    ("negative-opinion", _("Negative CHMP opinion"), "opinion"),
    ("re-examination", _("Re-examination"), "under-re-examination"),
    ("initial-authorisation", _("Initial marketing authorisation"), "authorised"),
    ("conversion", _("Conversion from conditional to standard authorisation"), ""),
    ("extension-of-indication", _("Extension of indication"), ""),
    ("change-of-holder", _("Change of marketing authorisation holder"), ""),
    ("change-of-name", _("Change of name"), ""),
    ("renewal", _("Renewal"), ""),
    ("suspension", _("Suspension"), "suspended"),
    ("withdrawal", _("Withdrawal of the marketing authorisation"), "withdrawn"),
    ("expiry", _("Expiry"), "expired"),
    ("lapse", _("Lapse"), "lapsed"),
    ("revocation", _("Revocation"), "revoked"),
    ("refusal", _("Refusal"), "refused"),
    ("application-withdrawn", _("Application withdrawn"), "application-withdrawn"),
    ("orphan-designation", _("Orphan designation granted"), ""),
    ("orphan-designation-removed", _("Orphan designation removed from the register"), ""),
    ("prime-granted", _("PRIME support granted"), ""),
    ("other", _("Other regulatory step"), ""),
)

#: Steps of a product's regulatory life, as they appear on its timeline: a member a step, named
#: after its value (``"change-of-holder"`` is ``EventKind.CHANGE_OF_HOLDER``).
EventKind = models.TextChoices(
    "EventKind",
    [
        (value.upper().replace("-", "_"), (value, label))
        for value, label, _status in REGULATORY_STEPS
    ],
    module=__name__,
)


class Confidence(models.TextChoices):
    """How firmly a timeline event is sourced (``ema_atmps_changes.json``'s wording)."""

    VERIFIED = "verified", _("Verified against the EMA, the Commission or the EMA's export")
    SINGLE_SOURCE = "single-source", _("Resting on one source outside the EMA")


#: The status an event leaves a product in, for events that change it.
STATUS_AFTER_EVENT = {
    EventKind(value): Status(status) for value, _label, status in REGULATORY_STEPS if status
}
#: The other way round: the event that records a change to each status, where one kind alone
#: leads to it (not an opinion: whether it is positive or negative, the EMA's export says in
#: another column).
STATUS_EVENTS = {
    status: kind
    for kind, status in STATUS_AFTER_EVENT.items()
    if list(STATUS_AFTER_EVENT.values()).count(status) == 1
}
