"""An application's status history (who, when, from, to, why), written by the
one transition function, and 退回修改: the chair sends an application back to
its drafter with a reason, the drafter amends and resubmits it, and it is
decided afresh. Only the drafter withdraws."""

from decimal import Decimal as D
from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from programs.models import Application, ApplicationStatusChange, Decision
from programs.models import ApplicationStatus as S
from programs.services import applications, batches, payments
from tests.programs.conftest import filed


def detail_url(app):
    return reverse("programs:application_detail", args=[app.pk])


def return_url(app):
    return reverse("programs:application_return", args=[app.pk])


def resubmit_url(app):
    return reverse("programs:application_resubmit", args=[app.pk])


def steps(app) -> list[tuple[str, str, str, str]]:
    return [
        (c.from_status, c.to_status, c.actor.username, c.reason)
        for c in ApplicationStatusChange.objects.filter(application=app).order_by("at", "id")
    ]


def draft(alice, household, festival, amount="1000", **kw) -> Application:
    return applications.application_draft(
        actor=alice, household=household, program=festival, amount=amount, **kw
    )


# -- the history the transition function writes ---------------------------------------


@pytest.mark.django_db
def test_every_step_from_draft_to_reversal_leaves_a_history_row(
    alice, carol, dave, household, festival, fund
):
    app = draft(alice, household, festival)
    applications.application_decide(actor=carol, application=app, approve=True, note="情况属实")
    payment = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    payments.aid_payment_reverse(actor=dave, payment=payment, reason="账号填错")

    assert steps(app) == [
        ("", S.PENDING, "alice", ""),
        (S.PENDING, S.APPROVED, "carol", "情况属实"),
        (S.APPROVED, S.PAID, "dave", ""),
        (S.PAID, S.APPROVED, "dave", "账号填错"),
    ]


@pytest.mark.django_db
def test_a_batch_submission_writes_a_row_per_line(alice, units, festival):
    households = [filed(units["a"], name=n) for n in ("王一", "王二", "王三")]
    batch, skipped = batches.batch_create(
        actor=alice, unit=units["a"], program=festival, title="春节送温暖"
    )
    assert not skipped
    batches.batch_submit(actor=alice, batch=batch)

    for line in batch.lines.all():
        assert steps(line) == [("", S.DRAFT, "alice", ""), (S.DRAFT, S.PENDING, "alice", "")]
    assert batch.lines.count() == len(households)


@pytest.mark.django_db
def test_an_illegal_move_is_refused_and_writes_no_row(alice, carol, household, festival):
    app = draft(alice, household, festival)
    applications.application_decide(actor=carol, application=app, approve=False, note="不符合")
    with pytest.raises(ValidationError):
        applications.application_withdraw(actor=alice, application=app, reason="撤回")
    assert [s[1] for s in steps(app)] == [S.PENDING, S.REJECTED]


@pytest.mark.django_db
def test_the_detail_page_shows_the_history_table(as_user, alice, carol, household, festival):
    app = draft(alice, household, festival)
    applications.application_return(actor=carol, application=app, reason="缺少住院发票")

    page = as_user(alice).get(detail_url(app)).content.decode()

    section = page[page.index('id="status-history"') :]
    for header in ("时间", "操作人", "从", "到", "原因"):
        assert f"<th>{header}</th>" in section
    assert "缺少住院发票" in section and "陈红" in section and "退回修改" in section
    # Each cell carries its label, so the table reads as cards on a phone.
    assert 'data-label="原因"' in section


# -- 退回修改: the service ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_chair_returns_an_application_with_a_reason(alice, carol, household, festival):
    app = draft(alice, household, festival)

    applications.application_return(actor=carol, application=app, reason="  缺少诊断证明  ")

    app.refresh_from_db()
    assert app.status == S.RETURNED
    assert steps(app)[-1] == (S.PENDING, S.RETURNED, "carol", "缺少诊断证明")
    event = AuditEvent.objects.filter(action="application.return").get()
    assert event.actor == carol and event.changes["reason"] == [None, "缺少诊断证明"]
    assert not Decision.objects.filter(application=app).exists()


@pytest.mark.django_db
def test_returning_without_a_reason_changes_nothing(alice, carol, household, festival):
    app = draft(alice, household, festival)

    with pytest.raises(ValidationError) as exc:
        applications.application_return(actor=carol, application=app, reason="   ")

    assert "reason" in exc.value.error_dict
    app.refresh_from_db()
    assert app.status == S.PENDING and len(steps(app)) == 1


@pytest.mark.django_db
def test_only_a_chair_who_may_decide_returns(alice, carol, ben, household, festival, units, tier):
    app = draft(alice, household, festival)
    with pytest.raises(PermissionDenied):
        applications.application_return(actor=alice, application=app, reason="自己退回")
    with pytest.raises(PermissionDenied):
        applications.application_return(actor=ben, application=app, reason="别的县")
    # A chair who drafted the application cannot return it either.
    own = draft(carol, filed(units["a"], name="孙七"), festival)
    with pytest.raises(PermissionDenied):
        applications.application_return(actor=carol, application=own, reason="自己退回")
    assert Application.objects.filter(status=S.RETURNED).count() == 0


@pytest.mark.django_db
def test_a_decided_application_cannot_be_returned(alice, carol, household, festival):
    app = draft(alice, household, festival)
    applications.application_decide(actor=carol, application=app, approve=True)
    with pytest.raises(ValidationError):
        applications.application_return(actor=carol, application=app, reason="再看看")
    app.refresh_from_db()
    assert app.status == S.APPROVED


@pytest.mark.django_db
def test_the_drafter_amends_and_resubmits_and_the_chair_decides_afresh(
    alice, carol, household, festival
):
    app = draft(alice, household, festival)
    applications.application_return(actor=carol, application=app, reason="金额应按标准")
    app.refresh_from_db()
    assert app.status == S.RETURNED

    applications.application_resubmit(
        actor=alice,
        application=app,
        amount="1200",
        amount_reason="新增住院费用",
        reason="已补充材料",
        note="按退回意见补充",
    )

    app.refresh_from_db()
    assert (app.status, app.amount, app.submission, app.reason) == (
        S.PENDING,
        D("1200"),
        2,
        "已补充材料",
    )
    assert steps(app)[-1] == (S.RETURNED, S.PENDING, "alice", "按退回意见补充")
    applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.APPROVED


@pytest.mark.django_db
def test_a_parent_return_starts_both_levels_again(alice, carol, cathy, household, festival):
    """Above the county's limit: the county chair approves, the city chair
    returns it; after resubmission both decide again, each once per round."""
    app = draft(alice, household, festival, amount="2500", amount_reason="重病")
    applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.PENDING_PARENT
    applications.application_return(actor=cathy, application=app, reason="请附医院证明")

    applications.application_resubmit(
        actor=alice, application=app, amount="2500", amount_reason="重病，已附证明"
    )
    applications.application_decide(actor=carol, application=app, approve=True)
    applications.application_decide(actor=cathy, application=app, approve=True)

    app.refresh_from_db()
    assert app.status == S.APPROVED
    rounds = list(
        app.decisions.order_by("id").values_list("submission", "level", "actor__username")
    )
    assert rounds == [(1, "unit", "carol"), (2, "unit", "carol"), (2, "parent", "cathy")]


@pytest.mark.django_db
def test_a_resubmission_passes_the_rules_again(alice, carol, household, festival):
    app = draft(alice, household, festival)
    applications.application_return(actor=carol, application=app, reason="金额不对")

    with pytest.raises(ValidationError) as exc:
        applications.application_resubmit(actor=alice, application=app, amount="1500")

    assert "amount_reason" in exc.value.error_dict
    app.refresh_from_db()
    assert (app.status, app.amount, app.submission) == (S.RETURNED, D("1000"), 1)


@pytest.mark.django_db
def test_only_the_drafter_resubmits(alice, carol, household, festival, units):
    app = draft(alice, household, festival)
    applications.application_return(actor=carol, application=app, reason="补材料")
    with pytest.raises(PermissionDenied):
        applications.application_resubmit(actor=carol, application=app, amount="")
    app.refresh_from_db()
    assert app.status == S.RETURNED


@pytest.mark.django_db
def test_only_the_drafter_withdraws(alice, carol, household, festival):
    app = draft(alice, household, festival)
    with pytest.raises(PermissionDenied):
        applications.application_withdraw(actor=carol, application=app, reason="主席撤回")
    app.refresh_from_db()
    assert app.status == S.PENDING

    applications.application_return(actor=carol, application=app, reason="补材料")
    applications.application_withdraw(actor=alice, application=app, reason="家庭情况好转")
    app.refresh_from_db()
    assert app.status == S.WITHDRAWN


# -- 退回修改: the screens --------------------------------------------------------------


@pytest.mark.django_db
def test_the_chair_sees_return_but_not_withdraw(as_user, alice, carol, household, festival):
    app = draft(alice, household, festival)

    chair_page = as_user(carol).get(detail_url(app)).content.decode()
    assert 'id="return"' in chair_page and "退回修改" in chair_page
    assert 'id="withdraw"' not in chair_page and "撤回申请" not in chair_page

    drafter_page = as_user(alice).get(detail_url(app)).content.decode()
    assert 'id="withdraw"' in drafter_page and 'id="return"' not in drafter_page


@pytest.mark.django_db
def test_return_screen_without_a_reason_names_the_field(as_user, alice, carol, household, festival):
    app = draft(alice, household, festival)

    response = as_user(carol).post(return_url(app), {"reason": ""})

    assert response.status_code == 200
    page = response.content.decode()
    assert "退回原因：请填写退回原因" in page
    app.refresh_from_db()
    assert app.status == S.PENDING and len(steps(app)) == 1


@pytest.mark.django_db
def test_return_screen_refuses_the_caseworker_and_other_counties(
    as_user, alice, ben, carol, household, festival
):
    app = draft(alice, household, festival)

    assert as_user(alice).post(return_url(app), {"reason": "自己退回"}).status_code == 403
    assert as_user(ben).post(return_url(app), {"reason": "别的县"}).status_code == 404
    assert as_user(carol).get(return_url(app)).status_code == 405
    app.refresh_from_db()
    assert app.status == S.PENDING


@pytest.mark.django_db
def test_return_then_resubmit_on_the_screens(as_user, alice, carol, household, festival):
    app = draft(alice, household, festival)
    response = as_user(carol).post(return_url(app), {"reason": "请补充住院发票"})
    assert response.status_code == 302

    caseworker = as_user(alice)
    page = caseworker.get(detail_url(app)).content.decode()
    assert "请补充住院发票" in page and resubmit_url(app) in page
    form = caseworker.get(resubmit_url(app)).content.decode()
    assert "请补充住院发票" in form and 'value="1000.00"' in form

    response = caseworker.post(
        resubmit_url(app),
        {"program": festival.pk, "amount": "900", "amount_reason": "已获其他救助", "note": "已补"},
    )

    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.status, app.amount) == (S.PENDING, D("900"))
    # Back in the chair's 待我审批 list.
    listing = as_user(carol).get(reverse("programs:application_list")).content.decode()
    assert detail_url(app) in listing


@pytest.mark.django_db
def test_resubmit_screen_shows_a_refusal_on_its_field_and_saves_nothing(
    as_user, alice, carol, household, festival
):
    app = draft(alice, household, festival)
    applications.application_return(actor=carol, application=app, reason="金额不对")

    response = as_user(alice).post(
        resubmit_url(app), {"program": festival.pk, "amount": "-5", "amount_reason": "x"}
    )

    assert response.status_code == 200
    assert "申请金额（元）：金额不能为负数。" in response.content.decode()
    app.refresh_from_db()
    assert (app.status, app.amount) == (S.RETURNED, D("1000"))


@pytest.mark.django_db
def test_resubmit_screen_is_the_drafters_only(as_user, alice, carol, household, festival):
    app = draft(alice, household, festival)
    # Not returned: nothing to resubmit, back to the application.
    assert as_user(alice).get(resubmit_url(app)).status_code == 302
    applications.application_return(actor=carol, application=app, reason="补材料")
    assert as_user(carol).get(resubmit_url(app)).status_code == 403
    assert as_user(carol).post(resubmit_url(app), {"program": festival.pk}).status_code == 403
    app.refresh_from_db()
    assert app.status == S.RETURNED


@pytest.mark.django_db
def test_the_backfill_gives_older_applications_their_current_status(alice, household, festival):
    """Applications from before the history was kept get one row: their status
    then, dated when they were drafted."""
    old = Application.objects.create(
        program=festival,
        household=household,
        year=2026,
        status=S.APPROVED,
        amount=D("1000"),
        drafted_by=alice,
    )
    import_module("programs.migrations.0012_backfill_application_history").backfill(apps, None)

    change = ApplicationStatusChange.objects.get(application=old)
    assert (change.from_status, change.to_status, change.actor, change.at) == (
        "",
        S.APPROVED,
        alice,
        old.drafted_at,
    )
