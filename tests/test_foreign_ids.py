"""Every id a form takes, tried with another union's id.

The forms come from the code, the requests from the permission walk's route
tables (tests/test_permissions.py): each route is sent once, as the persona
the walk lets in, with the walk's valid payload, and the forms the view builds
are recorded (that first request is rolled back). Then, for every field of
those forms that takes an id of a scoped record (a ModelChoiceField, or a
plain id field declared below), the same request is sent again with the id
of a record of county B (the other union) in that field. The answer must be
404 or a form error on that field, and no row of any table may change. The
record of county B must not be among the choices the form offers either.

Every id field of every form class in the apps (found by introspection) must
have been tried, unless it picks from a nationwide list (GLOBAL_MODELS), so a
form added without a route in the walk fails here; a new hidden field must be
declared an id (PLAIN_IDS) or not (NOT_IDS).
"""

import functools
import importlib
import json
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import connection, models, transaction
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Unit, User
from cases import clock
from cases.models import (
    Cause,
    FileCategory,
    HelperPerson,
    Household,
    HouseholdStatus,
    Member,
    Tier,
)
from funds.models import Fund, IncomeSource, LedgerEntry
from programs.models import Application, Batch, ClaimCategory, PaymentBatch, Program
from reports import pdf
from tests.builders import household_data, make_household, roster_person
from tests.funds.routes_funds import make_fund
from tests.programs.routes_applications import _batch as aid_batch
from tests.programs.routes_payments import approved, paid
from tests.test_permissions import PAGES, PDF, ROUTES, make_attachment, target_of

APPS = ("accounts", "cases", "funds", "programs", "reports")

# Lookup lists kept once for the whole country by the administrator: no union
# owns a row, so every union may choose any of them.
GLOBAL_MODELS: dict[type[models.Model], str] = {
    Tier: "困难类别: one national list",
    Cause: "致困原因: one national list",
    FileCategory: "档案分类: one list kept by the administrator",
    IncomeSource: "资金来源: one list kept by the administrator",
    ClaimCategory: "互助理赔类别: one list kept by the administrator",
}

# How each scoped model reaches its union (None: it is a union).
UNIT_OF: dict[type[models.Model], str | None] = {
    Unit: None,
    User: "memberships__unit",
    Household: "unit",
    Member: "household__unit",
    HelperPerson: "unit",
    Fund: "unit",
    LedgerEntry: "fund__unit",
    Program: "unit",
    Application: "household__unit",
    Batch: "unit",
    PaymentBatch: "fund__unit",
}


@dataclass(frozen=True)
class PlainId:
    """A field that carries an id (or a lookup key) without being a
    ModelChoiceField: what it points at and how a record is written in it."""

    model: type[models.Model]
    value: Callable[[Any], Any] = lambda obj: obj.pk
    many: bool = False


# Keyed by "FormClass.field" (looked up along the form's base classes).
PLAIN_IDS: dict[str, PlainId] = {
    "PayForm.application": PlainId(Application),
    "EntryFilterForm.entry": PlainId(LedgerEntry),
    "NoticeFilterForm.exclude": PlainId(Household, many=True),
    # Typed, not picked: a head of household's name or file number.
    "FundCreateForm.household": PlainId(Household, lambda h: h.file_number or h.name),
}

# Hidden fields that carry no id.
NOT_IDS: dict[str, str] = {
    "ReceiptForm.reference": "a one-time token against double posting",
    "RepaymentForm.token": "a one-time token against double posting",
    "NoticeFilterForm.only": "a yes/no flag",
    "BatchDecideForm.scope": "all lines or the ticked ones",
}


# Forms outside the unions' scope.
NOT_SCOPED_FORMS: dict[str, str] = {
    "programs.admin.CooperativeForm": "Django admin, city-wide configuration by the system "
    "administrator; its clean() checks that the fund belongs to the union or one above it",
}


# -- the forms, from the code ---------------------------------------------------------


def _import_project_modules() -> None:
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, app + "."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            importlib.import_module(info.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def project_forms() -> list[type[forms.BaseForm]]:
    _import_project_modules()
    found = {c for c in _subclasses(forms.BaseForm) if c.__module__.split(".")[0] in APPS}
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def declared(table: dict[str, Any], cls: type, name: str) -> Any:
    for base in cls.__mro__:
        key = f"{base.__qualname__}.{name}"
        if key in table:
            return table[key]
    return None


def _static_model(f: forms.Field) -> type[models.Model] | None:
    queryset = getattr(f, "queryset", None)
    return None if queryset is None else queryset.model


def static_id_fields() -> dict[str, str]:
    """Every "module.Form.field" that takes an id of a scoped record, with
    why it is or is not tried; built from the form classes alone."""
    fields: dict[str, str] = {}
    for cls in project_forms():
        if f"{cls.__module__}.{cls.__qualname__}" in NOT_SCOPED_FORMS:
            continue
        for name, f in cls.base_fields.items():  # type: ignore[attr-defined]
            key = f"{cls.__module__}.{cls.__qualname__}.{name}"
            if isinstance(f, forms.ModelChoiceField):
                model = _static_model(f)
                fields[key] = GLOBAL_MODELS.get(model, "try") if model else "try"
            elif declared(PLAIN_IDS, cls, name):
                fields[key] = "try"
            elif isinstance(f.widget, forms.HiddenInput | forms.MultipleHiddenInput):
                fields[key] = declared(NOT_IDS, cls, name) or "UNDECLARED hidden field"
    return fields


# -- recording the forms a view builds ------------------------------------------------


@pytest.fixture
def made(monkeypatch) -> list[forms.BaseForm]:
    built: list[forms.BaseForm] = []
    original = forms.BaseForm.__init__

    def recording(self: forms.BaseForm, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(forms.BaseForm, "__init__", recording)
    return built


class _Undo(Exception):
    pass


def _probe(send: Callable[[], Any], made: list[forms.BaseForm]) -> list[forms.BaseForm]:
    """The forms one request builds, with everything it wrote undone."""
    del made[:]
    try:
        with transaction.atomic():
            send()
            raise _Undo
    except _Undo:
        pass
    return list(made)


# -- the other union's records --------------------------------------------------------


def county_b_world(units: dict[str, Unit], bob: User) -> None:
    """At least one record of every scoped model in county B."""
    theirs = make_household(units["b"], name="赵铁柱")
    Member.objects.create(household=theirs, name="赵小军", relation="child", school_stage="junior")
    make_fund(theirs, name="二七区送温暖专项")
    approved(theirs)  # a program, a fund and an approved application of county B
    paid(make_household(units["b"], name="钱秀英"))  # a payment batch of county B
    aid_batch(theirs)
    roster_person(units["b"], bob)
    evaluated = make_household(units["b"], name="孙桂兰")
    Household.objects.filter(pk=evaluated.pk).update(status=HouseholdStatus.EVALUATED)


def foreign(model: type[models.Model], county_b: Unit) -> list[models.Model]:
    """Records of county B, newest first (the mirror of the route's own
    records, when the route's builders made one for county B too)."""
    if model not in UNIT_OF:
        pytest.fail(f"{model.__name__}: add how it reaches its union to UNIT_OF")
    path = UNIT_OF[model]
    lookup = "path__startswith" if path is None else f"{path}__path__startswith"
    rows = list(
        model._default_manager.filter(**{lookup: county_b.path}).distinct().order_by("-pk")[:3]
    )
    assert rows, f"county B has no {model.__name__} to try"
    return rows


# -- what changed ---------------------------------------------------------------------

IGNORED_APPS = {"sessions", "admin", "contenttypes", "axes", "otp_totp", "otp_static", "django_otp"}


@functools.cache
def _table_queries() -> list[tuple[str, str]]:
    quote = connection.ops.quote_name
    queries = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in IGNORED_APPS or model._meta.proxy:
            continue
        columns = [f.column for f in model._meta.concrete_fields if f.attname != "last_login"]
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        listed = ", ".join(quote(c) for c in columns)
        # Names from the models, quoted: no input reaches this SQL.
        sql = f"SELECT {listed} FROM {table} ORDER BY {pk}"  # noqa: S608
        queries.append((model._meta.label, sql))
    return queries


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, many-to-many links too (sign-in times aside)."""
    with connection.cursor() as cursor:
        rows = {}
        for label, sql in _table_queries():
            cursor.execute(sql)
            rows[label] = cursor.fetchall()
    return rows


def changed(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return [label for label in before if before[label] != after[label]]


# -- the requests ---------------------------------------------------------------------


def _member_row(member: Member | None = None) -> dict[str, Any]:
    """One row of the household form's members, new or `member`."""
    return {"members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "1" if member else "0",
            "members-0-id": member.pk if member else "", "members-0-name": "王小明",
            "members-0-relation": "child", "members-0-health_status": "healthy",
            "members-0-annual_income": "0", "members-0-school_stage": "junior"}  # fmt: skip


def _page_household(units: dict[str, Unit]) -> dict[str, Any]:
    return household_data(unit=units["a1"].pk, **_member_row())


def _edit_with_member(household: Household, data: dict[str, Any]) -> dict[str, Any]:
    member = Member.objects.create(household=household, name="王小明", relation="child")
    return {**data, **_member_row(member)}


def _fund_create(units: dict[str, Unit]) -> dict[str, Any]:
    make_household(units["a1"], name="周红梅")
    return {"unit": units["a"].pk, "name": "周红梅助学", "year": "2026",
            "restriction": "household", "household": "周红梅"}  # fmt: skip


def _payment_batch(units: dict[str, Unit]) -> dict[str, Any]:
    application = approved(make_household(units["a1"], name="吴建华"))
    return {"applications": [application.pk], "fund": application.program.funds.get().pk,
            "method": "bank", "paid_on": clock.today().isoformat()}  # fmt: skip


def _notice_create(units: dict[str, Unit]) -> dict[str, Any]:
    own = make_household(units["a1"], name="郑秀珍")
    Household.objects.filter(pk=own.pk).update(status=HouseholdStatus.EVALUATED)
    return {"unit": units["a"].pk, "households": [own.pk], "only": "on",
            "title": "困难职工建档公示", "starts_on": clock.today().isoformat(),
            "working_days": "5", "posted_at": "厂区公告栏"}  # fmt: skip


def _batch_create(units: dict[str, Unit]) -> dict[str, Any]:
    program = Program.objects.create(unit=units["a"], name="金秋助学", category="education",
                                     kind="cash")  # fmt: skip
    return {"unit": units["a"].pk, "program": program.pk, "title": "金秋助学第一批"}


# Valid submissions for the pages without an id in their address.
PAGE_PAYLOADS: dict[str, Callable[[dict[str, Unit]], dict[str, Any]]] = {
    "cases:household_create": _page_household,
    "funds:fund_create": _fund_create,
    "programs:payment_batch_create": _payment_batch,
    "cases:notice_create": _notice_create,
    "cases:review_start": lambda units: {"unit": units["a"].pk, "year": "2026"},
    "programs:batch_create": _batch_create,
}


# The query that makes a page read its filter.
PAGE_QUERIES: dict[str, Callable[[dict[str, Unit]], dict[str, Any]]] = {
    "cases:notice_create": lambda units: {"unit": units["a"].pk},
}

# What the walk's payload lacks to reach a form: the household form's
# members formset is empty in the walk.
PAYLOAD_EXTRAS: dict[str, Callable[[Household, dict[str, Any]], dict[str, Any]]] = {
    "cases:household_edit": _edit_with_member,
}


@dataclass
class Request:
    url: str
    user: str
    method: str
    data: dict[str, Any]


def requests_of(name: str, units: dict[str, Unit]) -> Iterator[Request]:
    """The requests the walk sends to `name`, as the persona it lets in."""
    if name in ROUTES:
        route = ROUTES[name]
        household = make_household(units["a1"], name="王秀兰")
        if route.prepare is not None:
            route.prepare(household)
        obj = target_of(route, household, make_attachment(household))
        url = reverse(name, args=[obj.pk])
        # The same records for county B: the closest foreign ids to try.
        theirs = make_household(units["b"], name="赵铁柱")
        if route.prepare is not None:
            route.prepare(theirs)
        target_of(route, theirs, make_attachment(theirs))
        for method in route.methods:
            data: dict[str, Any] = {}
            if method == "POST" and route.payload:
                data = route.payload(household)
                if name in PAYLOAD_EXTRAS:
                    data = PAYLOAD_EXTRAS[name](household, data)
            yield Request(url, route.user, method, data)
        return
    page = PAGES[name]
    if not page.allowed:
        return
    for method in page.methods:
        payload = (PAGE_PAYLOADS if method == "POST" else PAGE_QUERIES).get(name)
        built = payload(units) if payload else {}
        yield Request(reverse(name), page.allowed[0], method, built)


@dataclass
class Walk:
    attempts: int = 0
    tried: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


def _id_fields(form: forms.BaseForm) -> Iterator[tuple[str, type[models.Model], PlainId | None]]:
    cls = type(form)
    for name, f in form.fields.items():
        plain = declared(PLAIN_IDS, cls, name)
        if plain is not None:
            yield name, plain.model, plain
        elif isinstance(f, forms.ModelChoiceField):
            yield name, f.queryset.model, None  # type: ignore[union-attr]


def _holds(form: forms.BaseForm, html_name: str, value: Any) -> bool:
    """Did the form read `value` from the request?"""
    if not form.is_bound:
        return False
    if hasattr(form.data, "getlist"):
        held = form.data.getlist(html_name)
    else:
        held = form.data.get(html_name)
        held = held if isinstance(held, list | tuple) else [held]
    return str(value) in [str(v) for v in held]


def _submitted(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_submitted(v) for v in value]
    return value.pk if isinstance(value, models.Model) else value


def as_shown(form: forms.BaseForm) -> dict[str, Any]:
    """What the form sends back as shown on the page: a filter or an options
    form is tried as the user would submit it, with one value changed."""
    data = {}
    for name, f in form.fields.items():
        value = form[name].value()
        if value in (None, "", []) and type(f) is not forms.ModelMultipleChoiceField:
            # An empty pick list: the user picks the first of their own.
            queryset = f.queryset if isinstance(f, forms.ModelChoiceField) else None
            first = queryset.first() if queryset is not None else None
            value = first.pk if first is not None else None
        if value not in (None, "", []) and not callable(value):
            data[form.add_prefix(name)] = _submitted(value)
    return data


def _refused_on(form: forms.BaseForm, name: str) -> bool:
    errors = form.errors
    if name in errors:
        return True
    hidden = isinstance(form.fields[name].widget, forms.HiddenInput | forms.MultipleHiddenInput)
    return hidden and NON_FIELD_ERRORS in errors


def try_route(name: str, client: Any, people: dict[str, User], units: dict[str, Unit],
              made: list[forms.BaseForm], walk: Walk) -> None:  # fmt: skip
    for request in requests_of(name, units):
        user = people[request.user]

        def send(data: dict[str, Any], r: Request = request) -> Any:
            if r.method == "GET":
                return client.get(r.url, data)
            return client.post(r.url, data)

        client.force_login(user)  # before any snapshot: signing in is audited
        for form in _probe(functools.partial(send, dict(request.data)), made):
            client.force_login(user)  # a probe may have signed out
            cls = type(form)
            for field_name, model, plain in _id_fields(form):
                if model in GLOBAL_MODELS:
                    continue
                key = f"{cls.__module__}.{cls.__qualname__}.{field_name}"
                f = form.fields[field_name]
                for obj in foreign(model, units["b"]):
                    where = f"{name} {request.method} {cls.__qualname__}.{field_name}={obj.pk}"
                    if plain is None and f.queryset.filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
                        walk.failures.append(f"{where}: offered as a choice")
                    data = dict(request.data)
                    if request.method == "GET":
                        data = {**as_shown(form), **data}
                    html_name = form.add_prefix(field_name)
                    many = isinstance(f, forms.ModelMultipleChoiceField) or (plain and plain.many)
                    value = plain.value(obj) if plain else obj.pk
                    if many:
                        own = data.get(html_name) or []
                        data[html_name] = [*(own if isinstance(own, list) else [own]), value]
                    else:
                        data[html_name] = value
                    before = snapshot()
                    del made[:]
                    response = send(data)
                    same = [m for m in made if type(m) is cls and m.prefix == form.prefix]
                    read = [m for m in same if _holds(m, html_name, value)]
                    if response.status_code != 404 and not read:
                        if request.method == "POST":
                            walk.failures.append(f"{where}: {response.status_code}, not read")
                        continue  # a form shown on a page, not read from its address
                    after = snapshot()
                    if changed(before, after):
                        walk.failures.append(f"{where}: wrote {changed(before, after)}")
                    walk.attempts += 1
                    walk.tried.add(key)
                    if response.status_code == 404:
                        continue
                    refused = [m for m in read if _refused_on(m, field_name)]
                    if not refused:
                        walk.failures.append(
                            f"{where}: accepted ({response.status_code}, errors "
                            f"{dict(read[0].errors)})"
                        )
                        continue
                    # The person sees why: the refusal is on the page.
                    body = response.content.decode(errors="replace")
                    shown = [str(e) for m in refused for errs in m.errors.values() for e in errs]
                    if response.get("Content-Type", "").startswith("application/json"):
                        # A phone's upload: the answer the script shows beside the draft.
                        body = json.dumps(response.json(), ensure_ascii=False)
                        shown = [text.replace('"', '\\"') for text in shown]
                    else:
                        shown = [escape(text) for text in shown]
                    if not any(text in body for text in shown):
                        walk.failures.append(f"{where}: refused, but no message on the page")


@pytest.fixture
def people(alice, bob, carol, dave, erin, frank, ben, fay):
    return {p.username: p for p in (alice, bob, carol, dave, erin, frank, ben, fay)}


WALKED = sorted({*ROUTES, *PAGES})


def _tried(key: str, tried: set[str]) -> bool:
    """Was this form's id field tried, on the form itself or, for a base
    form no view builds alone (a union picker the filters extend), on a
    form that inherits it?"""
    if key in tried:
        return True
    form_name, _, name = key.rpartition(".")
    named = {f"{c.__module__}.{c.__qualname__}": c for c in project_forms()}
    base = named.get(form_name)
    return base is not None and any(
        f"{sub.__module__}.{sub.__qualname__}.{name}" in tried for sub in _subclasses(base)
    )


@pytest.mark.django_db
def test_no_form_takes_another_unions_id(client, people, units, made, standard, monkeypatch):
    # The documents are built as usual, only not typeset: this is about ids.
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html, archive=False: PDF)
    county_b_world(units, people["bob"])
    walk = Walk()
    for name in WALKED:
        try_route(name, client, people, units, made, walk)
    untried = sorted(
        k for k, why in static_id_fields().items() if why == "try" and not _tried(k, walk.tried)
    )
    print(f"foreign ids: {len(walk.tried)} fields, {walk.attempts} attempts")
    assert not walk.failures, "\n".join(walk.failures)
    assert not untried, f"id fields no route of the walk reached: {untried}"
    assert walk.attempts >= len(walk.tried) > 0


def test_every_hidden_field_is_declared():
    undeclared = sorted(k for k, why in static_id_fields().items() if why.startswith("UNDECLARED"))
    assert not undeclared, f"declare these in PLAIN_IDS or NOT_IDS: {undeclared}"
