"""回避 in the services: the guard, its flags, 回避转办 and the auditors' report.

carol chairs county A and registers a relative who heads a household there;
cathy chairs the city union above it. dave pays, erin audits."""

import datetime as dt
import io
import uuid
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from cases.services.kin import kin_register, kin_relative_add
from funds.models import LedgerEntry
from programs.models import AidPayment, Application, ConflictFlag, Decision, PaymentBatch
from programs.models import ApplicationStatus as S
from programs.services import applications, batches, payments
from programs.services.conflicts import ConflictOfInterest, conflict_guard
from tests.builders import make_id, make_user
from tests.programs.conftest import filed

ESCALATED = "programs:conflict_escalations"
REPORT = "programs:conflict_report"


def recuse(user, household, relation="spouse", name="王芳"):
    """`user` registers the head of `household` as a relative."""
    kin_relative_add(actor=user, relation=relation, name=name, id_number=household.id_number)


def escalated(client):
    """The rows of 回避转办 as the signed-in chair sees them."""
    page = client.get(reverse(ESCALATED)).content.decode()
    return page.split('id="conflict-escalations"')[1].split("</table>")[0]


def decide_url(app):
    return reverse("programs:application_decide", args=[app.pk])


@pytest.fixture
def app(alice, household, festival):
    return applications.application_draft(actor=alice, household=household, program=festival)


# -- the guard ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_registration_no_conflict(carol, app):
    conflict_guard(actor=carol, application=app, step="approve")
    assert not ConflictFlag.objects.exists()


@pytest.mark.django_db
def test_a_chair_is_refused_and_the_application_flagged(client, carol, app, household):
    recuse(carol, household)
    client.force_login(carol)
    response = client.post(decide_url(app), {"decision": "approve"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "回避" in page and "配偶 王芳" in page and "回避转办" in page
    assert household.id_number not in page
    app.refresh_from_db()
    assert app.status == S.PENDING and not Decision.objects.filter(application=app).exists()
    flag = ConflictFlag.objects.get()
    assert (flag.application, flag.user, flag.step, flag.refused) == (app, carol, "approve", True)
    assert flag.reasons == ["relative_id:spouse"] and flag.unit == household.unit
    assert AuditEvent.objects.filter(action="conflict.refuse", actor=carol).count() == 1
    # Asking again is refused again: one flag, each attempt in the trail.
    assert client.post(decide_url(app), {"decision": "approve"}).status_code == 403
    assert ConflictFlag.objects.count() == 1
    assert AuditEvent.objects.filter(action="conflict.refuse", actor=carol).count() == 2


@pytest.mark.django_db
def test_a_member_own_number_phone_or_address_each_conflict(carol, app, household):
    from cases.models import Member

    son = make_id()
    Member.objects.create(household=household, name="王小明", relation="child", id_number=son)
    kin_register(actor=carol, id_number=son, address=household.address, phone=household.phone)
    with pytest.raises(ConflictOfInterest) as refused:
        applications.application_decide(actor=carol, application=app, approve=True)
    message = str(refused.value)
    assert "与您本人的身份证号相同" in message and "联系电话" in message and "住址" in message
    assert "王小明" not in message and son not in message  # who in the household: not told
    assert ConflictFlag.objects.get().reasons == ["self_id", "phone", "address"]


@pytest.mark.django_db
def test_a_drafter_is_flagged_not_refused(alice, household, festival):
    recuse(alice, household, relation="sibling")
    app = applications.application_draft(actor=alice, household=household, program=festival)
    assert app.status == S.PENDING
    flag = ConflictFlag.objects.get()
    assert (flag.application, flag.step, flag.refused) == (app, "draft", False)
    assert AuditEvent.objects.filter(action="conflict.flag").count() == 1


@pytest.mark.django_db
def test_the_api_drafts_and_flags(alice, household, festival):
    from tests.api.conftest import Api, key_for

    recuse(alice, household)
    client = Api(key_for(alice))
    body = {"household": household.pk, "program": festival.pk, "reason": "冬季困难"}
    response = client.post("/api/v1/applications/", body, **{"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.content
    assert ConflictFlag.objects.get().application_id == response.json()["id"]


@pytest.mark.django_db
def test_returning_is_refused_too(carol, app, household):
    recuse(carol, household)
    with pytest.raises(ConflictOfInterest):
        applications.application_return(actor=carol, application=app, reason="请补充")
    app.refresh_from_db()
    assert app.status == S.PENDING


@pytest.mark.django_db
def test_someone_without_the_role_is_refused_unflagged(dave, app, household):
    recuse(dave, household)
    with pytest.raises(PermissionDenied) as refused:
        applications.application_decide(actor=dave, application=app, approve=True)
    assert not isinstance(refused.value, ConflictOfInterest)
    assert not ConflictFlag.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_flag_survives_the_refusal(seeded_lists, units, alice, carol):
    """On a real transaction: the refused decision rolls back, the flag stays."""
    from programs.models import Program, StandardAmount
    from tests.programs.conftest import filed as filed_household

    household = filed_household(units["a"])
    program = Program.objects.create(
        unit=units["city"], name="送温暖", category="festival", kind="cash"
    )
    StandardAmount.objects.create(program=program, tier=household.tier, amount=D("1000"))
    app = applications.application_draft(actor=alice, household=household, program=program)
    recuse(carol, household)
    with pytest.raises(ConflictOfInterest):
        applications.application_decide(actor=carol, application=app, approve=True)
    assert ConflictFlag.objects.filter(application=app, user=carol, step="approve").exists()
    assert AuditEvent.objects.filter(action="conflict.refuse").exists()
    assert not Decision.objects.filter(application=app).exists()


# -- 回避转办: the parent union's chair decides ---------------------------------------------


@pytest.mark.django_db
def test_the_parent_chair_sees_and_decides_what_the_chair_could_not(
    client, carol, cathy, ben, app, household
):
    recuse(carol, household)
    with pytest.raises(ConflictOfInterest):
        applications.application_decide(actor=carol, application=app, approve=True)
    client.force_login(cathy)
    page = escalated(client)
    assert household.name in page and "陈红" in page and "亲属身份证号（配偶）" in page
    response = client.post(decide_url(app), {"decision": "approve", "note": "回避转办"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == S.APPROVED
    assert Decision.objects.get(application=app).actor == cathy
    assert household.name not in escalated(client)
    # Nor does the flagged chair, or a chair of another county, see it.
    client.force_login(ben)
    assert household.name not in escalated(client)


@pytest.mark.django_db
def test_the_flagged_chair_does_not_see_it_in_her_own_list(client, units, carol, alice, festival):
    household = filed(units["a1"], name="吴秀英")
    app = applications.application_draft(actor=alice, household=household, program=festival)
    recuse(carol, household)
    with pytest.raises(ConflictOfInterest):
        applications.application_decide(actor=carol, application=app, approve=True)
    client.force_login(carol)
    assert "吴秀英" not in escalated(client)
    a1_chair = make_user("hua", units["a1"], "chair", full_name="华莉")
    client.force_login(a1_chair)
    assert "吴秀英" not in escalated(client)


@pytest.mark.django_db
def test_escalations_cost_the_same_for_few_and_many(client, carol, cathy, alice, units, festival):
    def flag_one(i):
        household = filed(units["a"], name=f"户{i}")
        app = applications.application_draft(actor=alice, household=household, program=festival)
        recuse(carol, household, name=f"亲属{i}")
        with pytest.raises(ConflictOfInterest):
            applications.application_decide(actor=carol, application=app, approve=True)

    flag_one(0)
    client.force_login(cathy)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(ESCALATED)).status_code == 200
    for i in range(1, 12):
        flag_one(i)
    with CaptureQueriesContext(connection) as many:
        page = escalated(client)
    assert "户11" in page
    assert len(many) == len(few)


# -- batches ------------------------------------------------------------------------------


def carol_decides_a_batch(client, *, alice, carol, units, festival, others):
    """A submitted batch of 亲属户 (carol's kin) and `others`; carol approves it all."""
    kin_household = filed(units["a"], name="亲属户")
    for name in others:
        filed(units["a"], name=name)
    batch, _skipped = batches.batch_create(
        actor=alice, unit=units["a"], program=festival, title="春节送温暖"
    )
    batches.batch_submit(actor=alice, batch=batch)
    recuse(carol, kin_household)
    client.force_login(carol)
    response = client.post(
        reverse("programs:batch_decide", args=[batch.pk]),
        {"decision": "approve", "note": "", "scope": "all"},
    )
    return batch, kin_household, response


@pytest.mark.django_db
def test_a_batch_decision_leaves_the_conflicted_line_for_another_chair(
    client, alice, carol, units, festival
):
    batch, kin_household, response = carol_decides_a_batch(
        client, alice=alice, carol=carol, units=units, festival=festival, others=["他人户"]
    )
    response = client.get(response["Location"])
    assert "另有 1 条申请须由其他工会主席审批" in response.content.decode()
    statuses = dict(batch.lines.values_list("household__name", "status"))
    assert statuses == {"亲属户": S.PENDING, "他人户": S.APPROVED}
    flag = ConflictFlag.objects.get()
    assert flag.application.household == kin_household and flag.refused


@pytest.mark.django_db
def test_a_batch_of_only_conflicted_lines_is_refused(client, alice, carol, units, festival):
    _batch, _kin, response = carol_decides_a_batch(
        client, alice=alice, carol=carol, units=units, festival=festival, others=[]
    )
    assert response.status_code == 403
    assert "亲属户" in response.content.decode() and "回避" in response.content.decode()
    assert ConflictFlag.objects.filter(user=carol, refused=True).count() == 1


@pytest.mark.django_db
def test_a_drafter_of_a_batch_is_flagged_on_the_kin_line(alice, units, festival):
    kin_household = filed(units["a"], name="亲属户")
    filed(units["a"], name="他人户")
    recuse(alice, kin_household)
    batch, _skipped = batches.batch_create(
        actor=alice, unit=units["a"], program=festival, title="春节送温暖"
    )
    assert batch.lines.count() == 2
    flag = ConflictFlag.objects.get()
    assert (flag.application.household, flag.step) == (kin_household, "draft")


@pytest.mark.django_db
def test_a_payment_batch_with_a_conflicted_line_pays_nothing(
    client, alice, carol, dave, units, festival, fund
):
    kin_household = filed(units["a"], name="亲属户")
    other = filed(units["a"], name="他人户")
    chosen = []
    for h in (kin_household, other):
        a = applications.application_draft(actor=alice, household=h, program=festival)
        applications.application_decide(actor=carol, application=a, approve=True)
        chosen.append(a)
    recuse(dave, kin_household, relation="parent", name="王大山")
    entries = LedgerEntry.objects.count()
    client.force_login(dave)
    response = client.post(
        reverse("programs:payment_batch_create"),
        {
            "applications": [a.pk for a in chosen],
            "fund": fund.pk,
            "method": "bank",
            "paid_on": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 403
    assert "亲属户" in response.content.decode() and "其他财务人员" in response.content.decode()
    assert not PaymentBatch.objects.exists() and not AidPayment.objects.exists()
    assert LedgerEntry.objects.count() == entries
    flag = ConflictFlag.objects.get()
    assert (flag.step, flag.application) == ("pay", chosen[0])
    # The other line alone is paid.
    payments.payment_batch_create(
        actor=dave, fund=fund, method="bank", applications=[chosen[1]], title=""
    )
    assert Application.objects.get(pk=chosen[1].pk).status == S.PAID


# -- the auditors' report -------------------------------------------------------------------


def _flags(n, *, carol, alice, units, festival):
    for i in range(n):
        household = filed(units["a"], name=f"王家{i}")
        app = applications.application_draft(actor=alice, household=household, program=festival)
        recuse(carol, household, name=f"亲属{i}")
        with pytest.raises(ConflictOfInterest):
            applications.application_decide(actor=carol, application=app, approve=True)


@pytest.mark.django_db
def test_the_auditor_reads_the_flags_masked_at_a_fixed_cost(
    client, erin, carol, alice, units, festival
):
    _flags(1, carol=carol, alice=alice, units=units, festival=festival)
    client.force_login(erin)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse(REPORT)).content.decode()
    assert "王**" in page and "王家0" not in page  # erin sees masked names
    assert "陈红" in page and "亲属身份证号（配偶）" in page and "已拒绝办理" in page
    assert "亲属0" not in page  # the relative's name stays with the chair
    _flags(20, carol=carol, alice=alice, units=units, festival=festival)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(REPORT)).status_code == 200
    assert len(many) == len(few)
    drafts = client.get(reverse(REPORT), {"step": "draft"}).content.decode()
    assert "没有回避记录" in drafts


@pytest.mark.django_db
def test_the_report_workbook_has_the_same_rows(client, erin, carol, alice, units, festival):
    _flags(2, carol=carol, alice=alice, units=units, festival=festival)
    client.force_login(erin)
    response = client.get(reverse(REPORT), {"format": "xlsx"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "标记时间" and len(rows) == 3
    assert {r[2] for r in rows[1:]} == {"王**"} and {r[6] for r in rows[1:]} == {"审批"}


@pytest.mark.django_db
def test_an_auditor_of_another_county_sees_none(client, units, carol, alice, festival):
    _flags(1, carol=carol, alice=alice, units=units, festival=festival)
    other = make_user("otto", units["b"], "auditor", full_name="欧涛")
    client.force_login(other)
    assert "陈红" not in client.get(reverse(REPORT)).content.decode()


@pytest.mark.django_db
def test_the_application_page_tells_the_chair_and_shows_the_flags(
    client, carol, cathy, app, household
):
    recuse(carol, household)
    client.force_login(carol)
    detail = reverse("programs:application_detail", args=[app.pk])
    page = client.get(detail).content.decode()
    assert 'id="recusal-notice"' in page and 'id="decide-form"' not in page
    client.post(decide_url(app), {"decision": "approve"})
    client.force_login(cathy)
    page = client.get(detail).content.decode()
    assert 'id="decide-form"' in page  # the parent union's chair decides instead
    assert 'id="conflict-flags"' in page and "陈红" in page and "亲属身份证号（配偶）" in page


@pytest.mark.django_db
def test_a_chair_declares_recusal_and_the_parent_chair_gets_it(
    client, carol, cathy, app, household
):
    client.force_login(carol)
    url = reverse("programs:application_recuse", args=[app.pk])
    response = client.post(url, follow=True)
    assert "您与该家庭没有登记的回避关系" in response.content.decode()
    assert not ConflictFlag.objects.exists()
    recuse(carol, household)
    response = client.post(url, follow=True)
    assert "已回避" in response.content.decode()
    assert 'id="recuse-form"' not in response.content.decode()
    flag = ConflictFlag.objects.get()
    assert (flag.user, flag.step, flag.refused) == (carol, "approve", True)
    assert AuditEvent.objects.filter(action="conflict.recuse").count() == 1
    client.force_login(cathy)
    assert household.name in escalated(client)


@pytest.mark.django_db
def test_verifying_is_refused_like_paying(alice, erin, app, household):
    """The payment verification service (回访) calls the guard with step="verify"."""
    kin_register(actor=erin, id_number=make_id(), address="", phone=household.phone)
    with pytest.raises(ConflictOfInterest) as refused:
        conflict_guard(actor=erin, application=app, step="verify")
    assert "回访核实" in str(refused.value) and "联系电话" in str(refused.value)
    flag = ConflictFlag.objects.get()
    assert (flag.step, flag.refused, flag.reasons) == ("verify", True, ["phone"])
    with pytest.raises(ValueError):
        conflict_guard(actor=erin, application=app, step="shrug")
