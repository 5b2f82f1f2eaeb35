"""Bad input, typed or crafted: a clear message naming the field and the
reason, nothing changed, never a 500."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from accounts.models import AuditEvent, Unit
from cases.forms.households import HouseholdForm
from cases.models import Attachment, Household, HouseholdStatus, Member
from cases.services import households as services
from tests.builders import household_data, make_household, make_id

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
CREATE = "cases:household_create"

pytestmark = pytest.mark.django_db


def _member(name="李强", relation="spouse", **extra):
    return {"name": name, "relation": relation, "health_status": "healthy",
            "annual_income": "0", **extra}  # fmt: skip


def form_data(unit=None, members=(), initial=0, household=None, **overrides):
    """A complete household form POST, with members as an inline formset."""
    if household is not None:
        overrides.setdefault("id_number", household.id_number)
        overrides.setdefault("name", household.name)
        unit = unit or household.unit
    if unit is not None:
        overrides.setdefault("unit", unit.pk if isinstance(unit, Unit) else unit)
    data = household_data(**overrides)
    data.update({"members-TOTAL_FORMS": str(len(members)), "members-INITIAL_FORMS": str(initial)})
    for i, member in enumerate(members):
        for key, value in member.items():
            data[f"members-{i}-{key}"] = value
    return data


def service_data(**overrides):
    """Typed values, as the form hands them to the service."""
    data = household_data(**{"unit": Unit.objects.first().pk, **overrides})
    form = HouseholdForm(data, units=Unit.objects.all())
    assert form.is_valid(), form.errors
    return form.service_data()


def snapshot():
    """Everything a bad request must leave as it was (any save bumps updated_at)."""
    return (
        sorted(Household.objects.values_list("pk", "name", "id_number", "unit_id", "updated_at")),
        sorted(Member.objects.values_list("pk", "household_id", "name", "id_number")),
        sorted(Attachment.objects.values_list("pk")),
        AuditEvent.objects.count(),
    )


def assert_refused(response, *expected, before=None):
    body = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert "请修改下面标红的内容后再保存" in body
    for text in expected:
        assert text in body, f"{text!r} not shown"
    if before is not None:
        assert snapshot() == before


@pytest.fixture
def client_a(as_user, alice):
    return as_user(alice)


def _edit_url(household):
    return reverse("cases:household_edit", args=[household.pk])


# -- ID numbers ---------------------------------------------------------------


def test_bad_checksum_on_create(client_a, units):
    good = make_id()
    bad = good[:17] + ("1" if good[17] == "0" else "0")
    before = snapshot()
    response = client_a.post(reverse(CREATE), form_data(units["a1"], id_number=bad))
    assert_refused(response, "身份证号：身份证号校验位错误", before=before)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("41010519800101001", "身份证号应为 18 位，当前为 17 位"),
        ("4101051980010100AB", "身份证号前 17 位应为数字"),
        ("410105" + "19990230" + "0011", "身份证号中的出生日期 19990230 不是有效日期"),
        ("", "该字段是必填项"),
    ],
)
def test_bad_id_on_edit_changes_nothing(client_a, household, value, reason):
    before = snapshot()
    response = client_a.post(_edit_url(household), form_data(household=household, id_number=value))
    assert_refused(response, f"身份证号：{reason}", before=before)


def test_duplicate_id_names_the_holding_unit_and_nothing_more(client_a, units):
    holder = make_household(
        units["b"], name="赵铁柱", phone="13700001111", file_number="ZZ-2024-0001"
    )
    before = snapshot()
    response = client_a.post(reverse(CREATE), form_data(units["a1"], id_number=holder.id_number))
    assert_refused(
        response, "身份证号：该身份证号已在“二七区总工会”建有档案，不能重复建档。", before=before
    )
    body = response.content.decode()
    for secret in ("赵铁柱", "13700001111", "137****1111", "ZZ-2024-0001", f"/{holder.pk}/"):
        assert secret not in body, secret


def test_duplicate_id_typed_in_full_width_digits_is_still_a_duplicate(client_a, household):
    full_width = household.id_number.translate(
        str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    )
    before = snapshot()
    response = client_a.post(
        reverse(CREATE), form_data(household.unit, name="另一个人", id_number=full_width)
    )
    assert_refused(response, "不能重复建档", before=before)


def test_editing_to_another_files_id_is_refused(client_a, units, household):
    other = make_household(units["a"], name="孙立")
    before = snapshot()
    response = client_a.post(
        _edit_url(household), form_data(household=household, id_number=other.id_number)
    )
    assert_refused(response, "身份证号：该身份证号已在“金水区总工会”建有档案", before=before)


def test_duplicate_racing_past_the_check_is_caught_by_the_database(alice, units, monkeypatch):
    """Two caseworkers file the same person at the same moment: both pass the
    early check, the unique constraint stops the second, and she is told
    which unit got there first."""
    number = make_id()
    services.household_create(actor=alice, unit=units["a1"], data=service_data(id_number=number))
    real_check = services.check_id_free
    calls = []

    def check_that_lost_the_race(id_number, *, exclude_pk=None):
        calls.append(id_number)
        if len(calls) == 1:
            return  # the other file was not committed yet when we looked
        real_check(id_number, exclude_pk=exclude_pk)

    monkeypatch.setattr(services, "check_id_free", check_that_lost_the_race)
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.household_create(
            actor=alice, unit=units["a"], data=service_data(name="重复", id_number=number)
        )
    assert len(calls) == 2  # the constraint fired and the second check ran
    assert caught.value.message_dict["id_number"] == [
        "该身份证号已在“郑州纺织厂工会”建有档案，不能重复建档。"
    ]
    assert snapshot() == before


def test_duplicate_called_twice_through_the_service(alice, units):
    number = make_id()
    services.household_create(actor=alice, unit=units["a1"], data=service_data(id_number=number))
    with pytest.raises(ValidationError) as caught:
        services.household_create(actor=alice, unit=units["a"], data=service_data(id_number=number))
    assert "郑州纺织厂工会" in caught.value.message_dict["id_number"][0]
    assert Household.objects.filter(id_number=number).count() == 1


# -- members ------------------------------------------------------------------


def test_member_with_bad_id(client_a, units):
    good = make_id()
    bad = good[:17] + ("1" if good[17] == "0" else "0")
    before = snapshot()
    response = client_a.post(
        reverse(CREATE), form_data(units["a1"], members=[_member(id_number=bad)])
    )
    assert_refused(response, "身份证号：身份证号校验位错误", before=before)


def test_member_with_the_heads_id_is_refused_on_create(client_a, units):
    head = make_id()
    before = snapshot()
    response = client_a.post(
        reverse(CREATE), form_data(units["a1"], id_number=head, members=[_member(id_number=head)])
    )
    assert_refused(response, "家庭成员“李强”的身份证号与户主相同", before=before)


def test_member_with_the_heads_id_is_refused_on_edit(client_a, household):
    before = snapshot()
    data = form_data(household=household, members=[_member(id_number=household.id_number)])
    assert_refused(client_a.post(_edit_url(household), data), "身份证号", before=before)


def test_two_members_with_one_id_are_refused(client_a, units):
    number = make_id()
    members = [_member("李强", id_number=number), _member("李明", "child", id_number=number)]
    before = snapshot()
    response = client_a.post(reverse(CREATE), form_data(units["a1"], members=members))
    assert_refused(response, "身份证号：同一家庭内身份证号重复", before=before)


def test_more_than_twenty_members_is_refused(client_a, units):
    members = [_member(f"成员{i}", "child") for i in range(21)]
    before = snapshot()
    response = client_a.post(reverse(CREATE), form_data(units["a1"], members=members))
    assert_refused(response, "家庭成员最多登记 20 人", before=before)


def test_twenty_members_are_fine(client_a, units):
    members = [_member(f"成员{i}", "child") for i in range(20)]
    response = client_a.post(reverse(CREATE), form_data(units["a1"], members=members))
    assert response.status_code == 302
    assert Member.objects.count() == 20


def test_member_without_name_or_relation(client_a, units):
    before = snapshot()
    response = client_a.post(
        reverse(CREATE), form_data(units["a1"], members=[_member(name="", relation="cousin")])
    )
    assert_refused(response, "姓名：该字段是必填项", "与户主关系：", before=before)


@pytest.fixture
def stranger(units):
    """A member of another county's household."""
    household = make_household(units["b"], name="赵铁柱")
    return Member.objects.create(household=household, name="赵小花", relation="child")


def test_crafted_member_id_of_another_household_is_not_touched(client_a, household, stranger):
    """members-0-id names county B's member: at most a new row in alice's own
    file may come of it; the stranger keeps her name and her household."""
    data = form_data(
        household=household, initial=1, members=[_member("我改的", "spouse", id=stranger.pk)]
    )
    response = client_a.post(_edit_url(household), data)
    assert response.status_code in (200, 302)
    stranger.refresh_from_db()
    assert (stranger.name, stranger.household.name) == ("赵小花", "赵铁柱")
    assert stranger.household.members.count() == 1
    assert set(Member.objects.exclude(household=household)) == {stranger}


def test_crafted_member_id_marked_for_deletion_is_not_deleted(client_a, household, stranger):
    data = form_data(
        household=household, initial=1, members=[_member("x", "child", id=stranger.pk, DELETE="on")]
    )
    response = client_a.post(_edit_url(household), data)
    assert response.status_code in (200, 302)
    assert Member.objects.filter(pk=stranger.pk, name="赵小花").exists()


def test_crafted_member_id_on_create_is_not_touched(client_a, units, stranger):
    data = form_data(units["a1"], initial=1, members=[_member("我改的", "spouse", id=stranger.pk)])
    response = client_a.post(reverse(CREATE), data)
    assert response.status_code in (200, 302)
    stranger.refresh_from_db()
    assert (stranger.name, stranger.household.name) == ("赵小花", "赵铁柱")


def test_service_never_touches_a_member_of_another_household(alice, household, stranger):
    services.household_update(
        actor=alice,
        household=household,
        data={},
        members=[{"id": stranger.pk, "name": "被改", "relation": "spouse"}],
        delete_member_ids=[stranger.pk],
    )
    stranger.refresh_from_db()
    assert stranger.name == "赵小花"
    assert household.members.count() == 0


@pytest.mark.parametrize(
    "management",
    [
        {"members-TOTAL_FORMS": "abc"},
        {"members-TOTAL_FORMS": "-1"},
        {"members-TOTAL_FORMS": "100000"},
        {"members-INITIAL_FORMS": "5"},
    ],
)
def test_tampered_member_management_form(client_a, household, management):
    before = snapshot()
    data = {**form_data(household=household, name="改名"), **management}
    response = client_a.post(_edit_url(household), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert snapshot() == before
    assert Member.objects.count() == 0


def test_an_inflated_member_count_is_refused_without_building_the_forms(client_a, household):
    before = snapshot()
    data = {**form_data(household=household, name="改名"), "members-TOTAL_FORMS": "100000"}
    response = client_a.post(_edit_url(household), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) <= 40
    assert formset.non_form_errors()
    assert snapshot() == before


def test_missing_management_form_is_a_message(client_a, household):
    data = form_data(household=household)
    del data["members-TOTAL_FORMS"], data["members-INITIAL_FORMS"]
    before = snapshot()
    response = client_a.post(_edit_url(household), data)
    assert_refused(response, "ManagementForm", before=before)


# -- money and sizes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label", "value", "reason"),
    [
        ("income_wages", "工资性收入", "-100", "金额不能为负数"),
        ("expense_medical", "医疗刚性支出", "-0.01", "金额不能为负数"),
        ("income_transfer", "转移性收入", "abc", "输入一个数字"),
        ("income_other", "其他收入", "1e30", "14 个数字"),
        ("income_wages", "工资性收入", "12.345", "小数不超过 2 位"),
        ("income_wages", "工资性收入", "NaN", "输入一个数字"),
        ("housing_area", "住房面积（平方米）", "-5", "不能为负数"),
    ],
)
def test_bad_money_is_refused(client_a, household, field, label, value, reason):
    before = snapshot()
    response = client_a.post(_edit_url(household), form_data(household=household, **{field: value}))
    assert_refused(response, f"{label}：", before=before)
    assert reason in response.content.decode()


def test_negative_member_income_is_refused(client_a, units):
    before = snapshot()
    response = client_a.post(
        reverse(CREATE), form_data(units["a1"], members=[_member(annual_income="-1")])
    )
    assert_refused(response, "年收入：金额不能为负数", before=before)


@pytest.mark.parametrize("size", ["0", "-1", "abc", ""])
def test_household_size_below_one_is_refused_by_name(client_a, household, size):
    before = snapshot()
    response = client_a.post(
        _edit_url(household), form_data(household=household, household_size=size)
    )
    assert_refused(response, "家庭人口：", before=before)
    assert "保存失败" not in response.content.decode()
    if size == "0":
        assert "家庭人口：家庭人口至少为 1 人（含户主）" in response.content.decode()


def test_household_size_zero_on_create(client_a, units):
    before = snapshot()
    response = client_a.post(reverse(CREATE), form_data(units["a1"], household_size="0"))
    assert_refused(response, "家庭人口：", before=before)


@pytest.mark.parametrize(
    ("field", "label", "value"),
    [
        ("phone", "联系电话", "1380000abcd"),
        ("phone", "联系电话", "123"),
        ("bank_account", "银行账号", "6222-abc"),
        ("bank_account", "银行账号", "62220212"),
        ("name", "户主姓名", ""),
        ("name", "户主姓名", "名" * 51),
        ("employment_status", "就业状态", "boss"),
        ("ethnicity", "民族", "火星族"),
        ("disability_type", "残疾等级", "physical"),  # a type needs a grade
    ],
)
def test_other_bad_fields_are_named(client_a, household, field, label, value):
    before = snapshot()
    response = client_a.post(_edit_url(household), form_data(household=household, **{field: value}))
    assert_refused(response, f"{label}：", before=before)


def test_full_width_phone_and_account_are_stored_in_ascii(client_a, household):
    data = form_data(
        household=household,
        phone="１３８ ０００ ０１２３４",
        bank_account="６２２２０２１２３４５６７８９０",
    )
    assert client_a.post(_edit_url(household), data).status_code == 302
    household.refresh_from_db()
    assert household.phone == "13800001234"
    assert household.bank_account == "6222021234567890"


# -- tampered choices ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label", "value"),
    [
        ("unit", "所属工会", "b"),
        ("unit", "所属工会", "99999999"),
        ("unit", "所属工会", "abc"),
        ("unit", "所属工会", ""),
        ("unit", "所属工会", "city"),
        ("tier", "困难类别", "999999"),
        ("main_cause", "主要致困原因", "x"),
        ("secondary_causes", "次要致困原因", "424242"),
    ],
)
def test_tampered_ids_in_the_post_are_refused(client_a, units, household, field, label, value):
    value = str(units[value].pk) if value in units else value
    before = snapshot()
    edit, create = form_data(household=household), form_data(units["a1"])
    edit[field] = create[field] = value
    assert_refused(client_a.post(_edit_url(household), edit), f"{label}：", before=before)
    assert_refused(client_a.post(reverse(CREATE), create), f"{label}：", before=before)


def test_service_refuses_a_unit_outside_the_actors_scope(alice, units, household):
    """Defence behind the form: the service checks the unit itself."""
    from django.core.exceptions import PermissionDenied

    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.household_create(actor=alice, unit=units["b"], data=service_data())
    with pytest.raises(PermissionDenied):
        services.household_update(actor=alice, household=household, data={}, unit=units["b"])
    assert snapshot() == before


# -- attachments --------------------------------------------------------------


def _upload(client, household, name, content, kind="id_card", content_type="application/pdf"):
    url = reverse("cases:attachment_upload", args=[household.pk])
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(url, {"kind": kind, "file": upload}, follow=True)


def _assert_upload_refused(response, *expected):
    body = response.content.decode()
    assert response.status_code == 200
    for text in expected:
        assert text in body, f"{text!r} not shown"
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="attachment.add").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [("诊断书.pdf", PDF), ("照片.PNG", PNG), ("身份证.jpg", JPEG), ("户口簿.jpeg", JPEG)],
)
def test_allowed_attachments_are_stored(client_a, household, name, content):
    response = _upload(client_a, household, name, content)
    assert "材料已上传" in response.content.decode()
    attachment = Attachment.objects.get()
    assert attachment.original_name == name
    assert attachment.file.read() == content


@pytest.mark.parametrize("name", ["../../../etc/passwd.pdf", "..\\..\\boot.pdf", "a\x00b.pdf"])
def test_hostile_file_names_never_reach_the_disk(client_a, household, name):
    response = _upload(client_a, household, name, PDF)
    assert response.status_code == 200
    attachment = Attachment.objects.get()
    assert attachment.file.name.startswith(f"households/{household.pk}/")
    assert ".." not in attachment.file.name and "\x00" not in attachment.original_name
    assert "/" not in attachment.original_name and "\\" not in attachment.original_name


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_oversized_attachment_is_refused(client_a, household):
    response = _upload(client_a, household, "大文件.pdf", PDF + b"0" * 2048)
    _assert_upload_refused(response, "文件：文件过大")
    body = response.content.decode()
    assert "上限为 1.0" in body  # "1.0 KB", spelled by the active locale
    assert "上限为 0 MB" not in body


def test_attachment_at_the_limit_is_accepted(client_a, household):
    with override_settings(ATTACHMENT_MAX_BYTES=len(PDF)):
        _upload(client_a, household, "刚好.pdf", PDF)
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "只接受 PDF、JPG 或 PNG 文件"),
        ("说明.txt", b"hello", "只接受 PDF、JPG 或 PNG 文件"),
        ("noextension", PDF, "只接受 PDF、JPG 或 PNG 文件"),
        ("证明.pdf", "这是一个文本文件".encode(), "文件内容与扩展名不符"),
        ("证明.pdf", PNG, "文件内容与扩展名不符"),
        ("证明.png", PDF, "文件内容与扩展名不符"),
        ("payload.pdf.exe", PDF, "只接受 PDF、JPG 或 PNG 文件"),
        ("证明.pdf", b"<html><script>alert(1)</script>", "文件内容与扩展名不符"),
    ],
)
def test_wrong_type_attachment_is_refused(client_a, household, name, content, reason):
    response = _upload(client_a, household, name, content)
    _assert_upload_refused(response, f"文件：{reason}")


def test_empty_attachment_is_refused(client_a, household):
    response = _upload(client_a, household, "空.pdf", b"")
    _assert_upload_refused(response, "文件：")


def test_attachment_without_kind_or_file(client_a, household):
    url = reverse("cases:attachment_upload", args=[household.pk])
    response = client_a.post(url, {"kind": "passport"}, follow=True)
    _assert_upload_refused(response, "材料类型：", "文件：")


# -- the list's query string ---------------------------------------------------


@pytest.fixture
def listed(units):
    for i in range(30):
        make_household(units["a1"], name=f"张{i:02d}")
    make_household(units["a1"], name="100%真", phone="13700000000")
    make_household(units["a1"], name="李_明")
    return units


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999", "1.5", "", "9" * 40])
def test_odd_page_numbers_show_a_page(client_a, listed, page):
    response = client_a.get(reverse("cases:household_list"), {"page": page})
    assert response.status_code == 200
    assert len(response.context["rows"]) > 0


@pytest.mark.parametrize(
    ("params", "label"),
    [
        ({"unit": "abc"}, "工会"),
        ({"unit": "-1"}, "工会"),
        ({"unit": "9" * 25}, "工会"),
        ({"tier": "999999"}, "困难类别"),
        ({"cause": "1 OR 1=1"}, "致困原因"),
        ({"status": "bogus"}, "状态"),
        ({"q": "王" * 500}, "搜索"),
        ({"q": "张\x00"}, "搜索"),
    ],
)
def test_malformed_filters_show_a_message_and_no_rows(client_a, listed, params, label):
    response = client_a.get(reverse("cases:household_list"), params)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"{label}：" in body
    assert response.context["rows"] == []
    assert "没有找到符合条件的档案" in body


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("' OR '1'='1", set()),
        ("张'; DROP TABLE cases_household; --", set()),
        ("%", set()),
        ("_", set()),
        ("张%", set()),
        ("李_", {"李_明"}),
        ("100%", {"100%真"}),
        ("\\", set()),
        ("张0", {f"张0{i}" for i in range(10)}),
    ],
)
def test_search_treats_special_characters_literally(client_a, listed, q, expected):
    response = client_a.get(reverse("cases:household_list"), {"q": q})
    assert response.status_code == 200
    assert {row["name"] for row in response.context["rows"]} == expected
    assert Household.objects.count() == 32  # and the table is still there


def test_htmx_request_with_bad_filter_gets_the_message_too(client_a, listed):
    response = client_a.get(
        reverse("cases:household_list"), {"status": "bogus"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "状态：" in body


# -- methods ------------------------------------------------------------------


def test_get_on_post_only_views_is_405(client_a, household):
    attachment_url = reverse("cases:attachment_delete", args=[1])
    for url in (
        reverse("cases:household_reveal", args=[household.pk]),
        reverse("cases:attachment_upload", args=[household.pk]),
        attachment_url,
        reverse("accounts:logout"),
    ):
        assert client_a.get(url).status_code == 405, url


def test_other_methods_on_forms_are_405(client_a, household):
    for url in (reverse(CREATE), _edit_url(household), reverse("cases:household_list")):
        assert client_a.put(url).status_code == 405, url
        assert client_a.delete(url).status_code == 405, url


def test_rejected_file_does_not_count_as_holding_the_id(client_a, units):
    closed = make_household(units["b"], name="旧档", status=HouseholdStatus.REJECTED)
    response = client_a.post(reverse(CREATE), form_data(units["a1"], id_number=closed.id_number))
    assert response.status_code == 302
