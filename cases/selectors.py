"""Reads of household files, always inside the user's units."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.scoping import covers, require_action, units_for

from . import idnumber
from .models import Attachment, Household, Member


def prefix_q(field: str, term: str) -> Q:
    """A prefix match that an ordinary B-tree index can serve on both engines.

    PostgreSQL gets LIKE 'x%' (Django adds a pattern-ops index for indexed
    text columns); SQLite's LIKE ignores indexes for non-ASCII text, so there a
    half-open range in code-point order does the same job.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": term, f"{field}__lt": term + "\U0010ffff"})
    return Q(**{f"{field}__startswith": term})


def search_q(term: str) -> Q:
    """Match a search box entry against name, ID number, phone or file number."""
    term = term.strip()
    if not term:
        return Q()
    upper = term.upper()
    if len(upper) == 18 and upper[:17].isdigit():
        return Q(id_number=idnumber.normalize(upper))
    if upper.isdigit() or (upper[:-1].isdigit() and upper.endswith("X")):
        # Partial numbers: a phone, the tail of an ID number is not searchable
        # by design; prefixes of ID numbers, phones and file numbers are.
        return prefix_q("id_number", upper) | prefix_q("phone", term) | Q(file_number=term)
    if "-" in term:
        return prefix_q("file_number", term)
    return prefix_q("name", term)


@dataclass
class HouseholdFilter:
    q: str = ""
    unit_id: int | None = None
    tier_id: int | None = None
    cause_id: int | None = None
    status: str = ""


def household_list(user: User, flt: HouseholdFilter) -> QuerySet[Household]:
    require_action(user, "household.view")
    scope = units_for(user, "household.view")
    qs = Household.objects.filter(unit__in=scope)
    if flt.unit_id is not None:
        unit = scope.filter(pk=flt.unit_id).first()
        if unit is None:
            return qs.none()
        qs = qs.filter(unit__in=scope.filter(path__startswith=unit.path))
    if flt.q:
        qs = qs.filter(search_q(flt.q))
    if flt.tier_id is not None:
        qs = qs.filter(tier_id=flt.tier_id)
    if flt.cause_id is not None:
        secondary = Household.secondary_causes.through.objects.filter(
            household_id=OuterRef("pk"), cause_id=flt.cause_id
        )
        qs = qs.filter(Q(main_cause_id=flt.cause_id) | Exists(secondary))
    if flt.status:
        qs = qs.filter(status=flt.status)
    return qs.select_related("unit", "tier", "main_cause").order_by("-id")


def get_household_for(user: User, pk: int, *, action: str = "household.view") -> Household:
    """The household if the user may do `action` on it: 403 without the role
    anywhere, 404 when it lies outside the user's units."""
    require_action(user, action)
    household = (
        Household.objects.filter(pk=pk, unit__in=units_for(user, action))
        .select_related("unit", "tier", "main_cause", "created_by")
        .first()
    )
    if household is None:
        raise Http404
    return household


def household_detail(household: Household) -> dict[str, object]:
    return {
        "members": list(household.members.all()),
        "secondary_causes": list(household.secondary_causes.all()),
        "attachments": list(household.attachments.select_related("uploaded_by")),
    }


def get_attachment_for(user: User, pk: int, *, action: str = "household.view") -> Attachment:
    require_action(user, action)
    attachment = (
        Attachment.objects.filter(pk=pk, household__unit__in=units_for(user, action))
        .select_related("household__unit")
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment


def get_member_for(user: User, pk: int, *, action: str = "household.edit") -> Member:
    require_action(user, action)
    member = (
        Member.objects.filter(pk=pk, household__unit__in=units_for(user, action))
        .select_related("household__unit")
        .first()
    )
    if member is None:
        raise Http404
    return member


def household_in_scope(user: User, household: Household, action: str) -> bool:
    return covers(user, action, household.unit)
