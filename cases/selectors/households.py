"""Reads of household files, always inside the user's units."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404

from accounts.models import Membership, Unit, User
from accounts.scoping import (
    covers,
    covers_everything,
    get_scoped,
    require_action,
    unit_q,
    units_for,
)

from .. import clock, idnumber
from ..choices import AttachmentKind
from ..models import Attachment, Cause, FileCategory, Household


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
    # The unit itself when the caller already holds it (the filter form's
    # choice): the scope is then checked without looking it up again.
    unit: Unit | None = None
    tier_id: int | None = None
    cause_id: int | None = None
    category_id: int | None = None
    status: str = ""


def _list_scope(granted: list[Membership]) -> Q:
    """The households these memberships cover, for a list of many of them.

    A test on the joined unit's path, not `unit_id IN (units…)`: given the
    IN list, SQLite (which keeps no statistics unless someone runs ANALYZE)
    fetches every household of the scope through the unit index and sorts
    them all to show one page, 200-450 ms at 100,000 files, and a name search
    skips the name index. The path test cannot use an index, so the planner
    walks households newest first, or the name index, and stops after a
    page.

    On PostgreSQL a scope of a few unions (a grassroots union's caseworker)
    is given as their ids instead: the walk newest first would pass over
    every other union's files to find a page of its 2,600 (29 ms, and far
    more on a deep page), while `unit_id = …` reads household_unit_id_idx
    in order (0.1 ms) and a short IN list is weighed with the column's
    statistics.
    """
    if covers_everything(granted):
        # A role at every root covers everything: no filter, no join, and
        # the list reads households newest first off the primary key.
        return Q()
    return _units_q([m.unit.path for m in granted])


FEW_UNITS = 50


def _units_q(paths: list[str]) -> Q:
    """Households in the unions at or below `paths` (see _list_scope)."""
    ids = list(Unit.objects.filter(unit_q(paths)).values_list("pk", flat=True)[: FEW_UNITS + 1])
    if len(ids) == 1 or (connection.vendor == "postgresql" and len(ids) <= FEW_UNITS):
        return Q(unit_id__in=ids)
    return unit_q(paths, prefix="unit__")


def household_list(user: User, flt: HouseholdFilter) -> QuerySet[Household]:
    granted = require_action(user, "household.view")
    if flt.unit is not None or flt.unit_id is not None:
        if flt.unit is not None:
            unit = flt.unit if covers(user, "household.view", flt.unit) else None
        else:
            unit = units_for(user, "household.view").filter(pk=int(flt.unit_id or 0)).first()
        if unit is None:
            return Household.objects.none()
        # A unit inside the scope: its subtree is inside the scope too.
        qs = Household.objects.filter(_units_q([unit.path]))
    else:
        qs = Household.objects.filter(_list_scope(granted))
    if flt.q:
        qs = qs.filter(search_q(flt.q))
    if flt.tier_id is not None:
        qs = qs.filter(tier_id=flt.tier_id)
    if flt.cause_id is not None:
        secondary = Household.secondary_causes.through.objects.filter(
            household_id=OuterRef("pk"), cause_id=flt.cause_id
        )
        qs = qs.filter(Q(main_cause_id=flt.cause_id) | Exists(secondary))
    if flt.category_id is not None:
        # EXISTS on the through table, not a join: a household carrying
        # several categories must still be one row, and the pager's count
        # must not need DISTINCT.
        carried = Household.categories.through.objects.filter(
            household_id=OuterRef("pk"), filecategory_id=flt.category_id
        )
        qs = qs.filter(Exists(carried))
    if flt.status:
        qs = qs.filter(status=flt.status)
    return qs.select_related("unit", "tier", "main_cause").order_by("-id")


def get_household_for(user: User, pk: int, *, action: str = "household.view") -> Household:
    """The household if the user may do `action` on it: 403 without the role
    anywhere, 404 when it lies outside the user's units.

    Read by its key alone and its union checked against the memberships
    already loaded (what `get_scoped` asks the database with a subquery of
    the units in scope: the same answer, a third of the time)."""
    require_action(user, action)
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    household = (
        Household.objects.select_related("unit", "tier", "main_cause", "created_by")
        .filter(pk=key)
        .first()
    )
    if household is None or not covers(user, action, household.unit):
        raise Http404
    return household


def household_detail(household: Household) -> dict[str, object]:
    causes, categories = _causes_and_categories(household)
    return {
        "members": list(household.members.all()),
        "secondary_causes": causes,
        "categories": categories,
        "attachments": list(household.attachments.select_related("uploaded_by")),
    }


def _causes_and_categories(household: Household) -> tuple[list[Cause], list[FileCategory]]:
    """The household's secondary causes and file categories, each in its
    list's order, in one query (names only: the page shows nothing else)."""
    columns = ("name", "name_en", "sort_order", "pk", "kind")
    causes = (
        Cause.objects.filter(secondary_households__pk=household.pk)
        .order_by()
        .annotate(kind=Value(0))
        .values_list(*columns)
    )
    categories = (
        FileCategory.objects.filter(households__pk=household.pk)
        .order_by()
        .annotate(kind=Value(1))
        .values_list(*columns)
    )
    found: tuple[list[Cause], list[FileCategory]] = ([], [])
    rows = causes.union(categories, all=True).order_by("kind", "sort_order", "pk")
    for name, name_en, sort_order, pk, kind in rows:
        if kind == 0:
            found[0].append(Cause(pk=pk, name=name, name_en=name_en, sort_order=sort_order))
        else:
            found[1].append(FileCategory(pk=pk, name=name, name_en=name_en, sort_order=sort_order))
    return found


def get_attachment_for(user: User, pk: int, *, action: str = "household.view") -> Attachment:
    queryset = Attachment.objects.select_related("household__unit")
    return get_scoped(user, queryset, pk, action=action, unit_field="household__unit")


def household_in_scope(user: User, household: Household, action: str) -> bool:
    return covers(user, action, household.unit)


def has_valid_consent() -> Exists:
    """A household's signed consent for data checks (授权书) with the day it
    was signed, not after today: the rule attachment_add enforces on the
    way in, read back for the civil-affairs batch."""
    return Exists(
        Attachment.objects.filter(
            household=OuterRef("pk"),
            kind=AttachmentKind.CONSENT,
            signed_on__isnull=False,
            signed_on__lte=clock.today(),
        )
    )
