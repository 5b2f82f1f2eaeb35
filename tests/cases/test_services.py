"""Writes to the household file: what they store, what the trail says about
them, and the means-test arithmetic a caseworker checks by hand."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.masking import mask_id_number
from accounts.models import AuditEvent, Unit
from cases import services
from cases.forms.households import HouseholdForm
from cases.models import Cause, Household, HouseholdStatus, Member
from tests.builders import household_data, make_household, make_id

pytestmark = pytest.mark.django_db


def service_data(**overrides):
    """Typed values, as the form hands them to the service."""
    data = household_data(**{"unit": Unit.objects.first().pk, **overrides})
    form = HouseholdForm(data, units=Unit.objects.all())
    assert form.is_valid(), form.errors
    return form.service_data()


def member(name, relation="child", **extra):
    return {"id": None, "name": name, "relation": relation, "health_status": "healthy",
            "annual_income": Decimal("0"), "occupation": "", "school": "", "school_stage": "",
            "grade": "", "id_number": "", **extra}  # fmt: skip


MONEY_FIELDS = (
    "income_wages",
    "income_business",
    "income_property",
    "income_transfer",
    "income_other",
    "expense_medical",
    "expense_disability",
    "expense_education",
    "expense_housing",
)


def last_event(action):
    return AuditEvent.objects.filter(action=action).latest("id")


@pytest.fixture
def filed(alice, units):
    return services.household_create(
        actor=alice,
        unit=units["a1"],
        data=service_data(),
        members=[member("李强", "spouse"), member("李小明", id_number=make_id())],
    )


# -- the means test -----------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "size", "expected"),
    [
        # (12000 + 2400 − 3000) ÷ 3 ÷ 12 = 11400 ÷ 36 = 316.666… → 316.67
        ({"income_wages": "12000", "income_transfer": "2400", "expense_medical": "3000"}, 3,
         "316.67"),
        # 18000 ÷ 3 ÷ 12 = 500.00
        ({"income_wages": "18000"}, 3, "500.00"),
        # (20000 + 3000 + 600 + 4800 + 400) − (5000 + 1200 + 2400 + 1000)
        #   = 28800 − 9600 = 19200; ÷ 4 ÷ 12 = 400.00
        ({"income_wages": "20000", "income_business": "3000", "income_property": "600",
          "income_transfer": "4800", "income_other": "400", "expense_medical": "5000",
          "expense_disability": "1200", "expense_education": "2400", "expense_housing": "1000"},
         4, "400.00"),
        # 10000.14 ÷ 1 ÷ 12 = 833.345 exactly: half rounds up, as on paper → 833.35
        ({"income_wages": "10000.14"}, 1, "833.35"),
        # 9600 ÷ 5 ÷ 12 = 160.00; a one-person household keeps all of it
        ({"income_transfer": "9600"}, 5, "160.00"),
        ({"income_transfer": "9600"}, 1, "800.00"),
        # No income at all
        ({}, 2, "0.00"),
    ],
)  # fmt: skip
def test_per_capita_monthly_income(alice, units, money, size, expected):
    zeros = dict.fromkeys(MONEY_FIELDS, "0")
    data = service_data(**{**zeros, **money, "household_size": str(size)})
    household = services.household_create(actor=alice, unit=units["a1"], data=data)
    household.refresh_from_db()
    assert household.per_capita_monthly_income == Decimal(expected)


def test_per_capita_follows_an_edit(alice, filed):
    assert filed.per_capita_monthly_income == Decimal("316.67")
    services.household_update(
        actor=alice,
        household=filed,
        data={"household_size": 2, "expense_medical": Decimal("0")},
    )
    filed.refresh_from_db()
    # (12000 + 2400) ÷ 2 ÷ 12 = 600.00
    assert filed.per_capita_monthly_income == Decimal("600.00")
    changes = last_event("household.update").changes
    assert changes["household_size"] == [3, 2]
    assert changes["expense_medical"] == ["3000.00", "0.00"]


def test_create_derives_birth_date_and_sex_from_the_id(alice, units):
    number = make_id(male=True)
    household = services.household_create(
        actor=alice, unit=units["a1"], data=service_data(id_number=number)
    )
    assert household.sex == "M"
    assert household.birth_date.strftime("%Y%m%d") == number[6:14]
    kid = make_id(male=False)
    services.household_update(
        actor=alice, household=household, data={}, members=[member("小红", id_number=kid)]
    )
    child = household.members.get()
    assert child.sex == "F" and child.birth_date.strftime("%Y%m%d") == kid[6:14]


# -- the audit summary of an update --------------------------------------------


def test_update_records_changed_fields_masked(alice, filed):
    old_id, new_id = filed.id_number, make_id()
    services.household_update(
        actor=alice,
        household=filed,
        data={
            "name": "王秀英",
            "id_number": new_id,
            "phone": "13911112222",
            "address": "河南省郑州市金水区丰产路街道经三路社区12号院3号楼",
            "bank_account": "6222029999888877776",
            "income_wages": Decimal("15000"),
        },
    )
    event = last_event("household.update")
    assert event.actor == alice and event.unit == filed.unit
    changes = event.changes
    assert changes["name"] == ["王秀兰", "王秀英"]
    assert changes["id_number"] == [mask_id_number(old_id), mask_id_number(new_id)]
    assert changes["phone"] == ["138****5678", "139****2222"]
    assert changes["address"] == [
        "河南省郑州市金水区文化路街道黄河社区****",
        "河南省郑州市金水区丰产路街道经三路社区****",
    ]
    assert changes["bank_account"] == ["6222***********0123", "6222***********7776"]
    assert changes["income_wages"] == ["12000.00", "15000.00"]
    # Fields that did not change are not listed.
    assert "employer" not in changes and "household_size" not in changes


def test_update_records_the_unit_and_secondary_causes(alice, units, filed):
    causes = list(Cause.objects.filter(name__in=["因病", "因学"]))
    services.household_update(
        actor=alice, household=filed, data={}, unit=units["a"], secondary_causes=causes
    )
    changes = last_event("household.update").changes
    assert changes["unit"] == ["郑州纺织厂工会", "金水区总工会"]
    assert changes["secondary_causes"] == [[], ["因学", "因病"]]


def test_update_records_members_added_removed_and_edited(alice, filed):
    spouse, child = filed.members.order_by("id")
    services.household_update(
        actor=alice,
        household=filed,
        data={},
        members=[
            member("李强", "spouse", id=spouse.pk, annual_income=Decimal("6000")),
            member("李奶奶", "grandparent"),
        ],
        delete_member_ids=[child.pk],
    )
    changes = last_event("household.update").changes
    assert changes["members_added"] == [None, ["李奶奶"]]
    assert changes["members_removed"] == [["李小明"], None]
    assert changes["members_edited"] == [None, ["李强"]]
    assert sorted(filed.members.values_list("name", flat=True)) == ["李奶奶", "李强"]
    spouse.refresh_from_db()
    assert spouse.annual_income == Decimal("6000")


def test_unchanged_member_is_not_listed_as_edited(alice, filed):
    spouse, child = filed.members.order_by("id")
    services.household_update(
        actor=alice,
        household=filed,
        data={"note": "年审"},
        members=[
            member("李强", "spouse", id=spouse.pk),
            member("李小明", id=child.pk, id_number=child.id_number),
        ],
    )
    changes = last_event("household.update").changes
    assert "members_edited" not in changes and changes["note"] == ["", "年审"]


def test_create_records_members_added(filed):
    changes = last_event("household.create").changes
    assert changes["members_added"] == [None, ["李强", "李小明"]]
    assert "*" in changes["id_number"][1]


def test_update_cannot_move_a_file_out_of_scope(alice, units, filed):
    with pytest.raises(PermissionDenied):
        services.household_update(actor=alice, household=filed, data={}, unit=units["b"])
    filed.refresh_from_db()
    assert filed.unit == units["a1"]


def test_a_caseworker_elsewhere_cannot_update(bob, filed):
    with pytest.raises(PermissionDenied):
        services.household_update(actor=bob, household=filed, data={"name": "改"})
    filed.refresh_from_db()
    assert filed.name == "王秀兰"


def test_a_failed_update_leaves_no_trace(alice, units, filed):
    other = make_household(units["a"], name="孙立")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.household_update(
            actor=alice, household=filed, data={"name": "改", "id_number": other.id_number}
        )
    filed.refresh_from_db()
    assert filed.name == "王秀兰"
    assert AuditEvent.objects.count() == before


# -- one active file per person -------------------------------------------------


@pytest.mark.parametrize("status", [HouseholdStatus.EXITED, HouseholdStatus.REJECTED])
def test_closed_file_does_not_block_a_new_one(alice, units, status):
    """An exited household can relapse and be filed again; its history stays."""
    old = make_household(units["a1"], name="旧档", status=status)
    new = services.household_create(
        actor=alice, unit=units["a"], data=service_data(id_number=old.id_number)
    )
    assert Household.objects.filter(id_number=old.id_number).count() == 2
    assert Household.objects.get(pk=old.pk).status == status
    assert new.status == HouseholdStatus.DRAFT


@pytest.mark.parametrize("status", [HouseholdStatus.DRAFT, HouseholdStatus.FILED])
def test_open_file_blocks_a_new_one(alice, units, status):
    old = make_household(units["b"], name="在档", status=status)
    with pytest.raises(ValidationError) as caught:
        services.household_create(
            actor=alice, unit=units["a"], data=service_data(id_number=old.id_number)
        )
    assert caught.value.message_dict["id_number"] == [
        "该身份证号已在“二七区总工会”建有档案，不能重复建档。"
    ]


def test_two_closed_files_and_one_open(alice, units):
    number = make_id()
    make_household(units["a1"], id_number=number, status=HouseholdStatus.EXITED)
    make_household(units["b"], id_number=number, status=HouseholdStatus.REJECTED)
    services.household_create(actor=alice, unit=units["a"], data=service_data(id_number=number))
    with pytest.raises(ValidationError):
        services.household_create(
            actor=alice, unit=units["a1"], data=service_data(id_number=number)
        )
    assert Household.objects.filter(id_number=number).count() == 3


def test_editing_a_file_keeps_its_own_id(alice, filed):
    """Saving a file with its own ID number is not a duplicate of itself."""
    services.household_update(
        actor=alice, household=filed, data={"id_number": filed.id_number, "name": "王秀英"}
    )
    filed.refresh_from_db()
    assert filed.name == "王秀英"


# -- members --------------------------------------------------------------------


def test_member_with_the_heads_id_is_refused(alice, units):
    head = make_id()
    with pytest.raises(ValidationError) as caught:
        services.household_create(
            actor=alice,
            unit=units["a1"],
            data=service_data(id_number=head),
            members=[member("李强", "spouse", id_number=head.lower())],
        )
    assert "李强" in caught.value.messages[0] and "户主" in caught.value.messages[0]
    assert not Household.objects.exists() and not Member.objects.exists()


def test_member_without_id_has_no_birth_date_or_sex(alice, filed):
    spouse = filed.members.get(name="李强")
    assert (spouse.id_number, spouse.birth_date, spouse.sex) == ("", None, "")


# -- attachments ------------------------------------------------------------------


def test_attachment_add_and_delete_are_recorded(alice, filed, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("低保证.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    attachment = services.attachment_add(
        actor=alice, household=filed, kind="dibao", upload=upload, content_type="application/pdf"
    )
    assert attachment.size == len(b"%PDF-1.4\n%%EOF\n")
    assert attachment.file.name.startswith(f"households/{filed.pk}/")
    assert "低保证" not in attachment.file.name  # the uploaded name never reaches the disk
    assert last_event("attachment.add").changes == {"attachment": [None, "低保证 低保证.pdf"]}
    stored, storage = attachment.file.name, attachment.file.storage
    assert storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(actor=alice, attachment=attachment)
    assert last_event("attachment.delete").changes == {"attachment": ["低保证 低保证.pdf", None]}
    assert not filed.attachments.exists()
    assert not storage.exists(stored)  # the file goes once the deletion is committed
