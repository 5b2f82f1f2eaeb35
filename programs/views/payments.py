"""Paying approved aid: the queue, one payment, payment batches with their
bank file, signed sheets, and reversing a payment."""

import io
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from accounts import tables
from accounts.i18n import pick_name
from accounts.masking import mask_bank_account
from accounts.paging import list_query, paginate
from accounts.scoping import can_unmask, covers, require_action
from accounts.web import attach_errors as _attach_errors
from accounts.web import query_without_page as _query
from accounts.xlsx import text_row
from cases.uploads import private_file_response
from funds import selectors as fund_selectors

from ..forms.payments import BatchPayForm, PayForm, PaymentReverseForm, QueueFilterForm
from ..models import Application, ApplicationStatus, PaymentBatch, PaymentMethod
from ..selectors import payments as selectors
from ..services import payments as services
from .applications import refused

QUEUE_PAGE_SIZE = 50
BATCH_PAGE_SIZE = 25
GET_POST = require_http_methods(["GET", "POST"])
MANAGE = selectors.MANAGE
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> Any:
    return request.user


def _sod(user: Any, application: Any) -> str:
    """Why this user may not pay the application (drafted or approved it), or ""."""
    try:
        services.check_payer(user, application)
    except PermissionDenied as exc:
        return str(exc)
    return ""


# -- The queue and batch payment -------------------------------------------------------


def _queue_context(
    request: HttpRequest, user: Any, batch_form: BatchPayForm, waiting: Any
) -> dict[str, Any]:
    """The queue page; `waiting` is the user's payable applications (the
    batch form's too), so the scope is worked out once per request."""
    filter_form = QueueFilterForm(
        request.GET or None,
        programs=selectors.queue_programs(user, waiting=waiting),
        units=fund_selectors.finance_units(user),
    )
    if filter_form.is_bound and not filter_form.is_valid():
        applications = Application.objects.none()
    else:
        flt = filter_form.to_filter() if filter_form.is_bound else selectors.QueueFilter()
        applications = selectors.queue_filtered(user, flt, waiting=waiting)
    # The rows' names and flags are joined for the page only, never for the total.
    page = paginate(request, selectors.queue_rows(user, applications), QUEUE_PAGE_SIZE, count=False)
    chosen = batch_form.chosen() if batch_form.is_bound else set()
    pay = reverse("programs:aid_pay", args=[_PK]).replace(str(_PK), "{}")
    funds = {
        program: "、".join(f"{name}（{year}）" for name, year in listed)
        for program, listed in selectors.queue_funds(
            user, (app.program_id for app in page.object_list)
        ).items()
    }
    rows = [_queue_row(user, app, chosen, pay, funds) for app in page.object_list]
    return {
        "filter_form": filter_form,
        "form": batch_form,
        "page": page,
        "rows": rows,
        "head_html": tables.header(_QUEUE_COLUMNS),
        "rows_html": tables.rows(rows, _QUEUE_COLUMNS, row_id=lambda r: f"app-{r['pk']}"),
        "queue_total": selectors.queue_total(applications),
        "query": list_query(request),
    }


_PK = 987654321  # stands for a row's pk in the one reversed pay URL


class _Listed(list[Any]):
    """A list read like a related manager (`.all()`)."""

    def all(self) -> "_Listed":
        return self


def _payer_facts(user: Any, app: Any) -> Any:
    """What the payer check (services.payments.check_payer) reads of an
    application, from the queue's annotations: who drafted it, and this
    payer's own decision or committee vote, if any (nobody else's matter)."""
    me = SimpleNamespace(actor_id=user.pk, voter_id=user.pk)
    claim = SimpleNamespace(votes=_Listed([me])) if app.payer_voted else None
    return SimpleNamespace(
        drafted_by_id=app.drafted_by_id,
        decisions=_Listed([me] if app.payer_decided else []),
        claim=claim,
    )


def _queue_row(
    user: Any, app: Any, chosen: set[int], pay: str, funds: dict[int, str]
) -> dict[str, Any]:
    """What a queue row shows, worked out here rather than by template
    lookups, filters and a {% url %} per row: a page holds 50 of them. The
    application comes with its household's, union's, program's and batch's
    names as plain values (selectors.payment_queue)."""
    return {
        "pk": app.pk,
        "blocked": _sod(user, _payer_facts(user, app)),
        "checked": app.pk in chosen,
        "name": app.household_name,
        "unit": app.unit_name,
        "file_number": app.household_file_number,
        "program": pick_name(app.program_name, app.program_name_en),
        "batch": app.batch_title or "",
        "amount": f"{app.amount:,.2f}",
        "funds": funds.get(app.program_id, ""),
        "pay_url": pay.format(app.pk),
    }


def _pick(row: dict[str, Any]) -> Any:
    if row["blocked"]:
        title = tables.esc(row["blocked"])
        return tables.safe(
            f'<span class="badge rejected" title="{title}">{tables.esc(_("不能由您发放"))}</span>'
        )
    checked = " checked" if row["checked"] else ""
    return tables.safe(
        f'<input type="checkbox" name="applications" value="{row["pk"]}"'
        f' aria-label="{tables.esc(row["name"])}"{checked}>'
    )


def _home(row: dict[str, Any]) -> Any:
    where = f"{row['unit']} · {row['file_number']}" if row["file_number"] else row["unit"]
    return tables.join(row["name"], tables.muted(where, "div"))


def _program(row: dict[str, Any]) -> Any:
    if not row["batch"]:
        return row["program"]
    return tables.join(row["program"], tables.muted(row["batch"], "div"))


def _pay_link(row: dict[str, Any]) -> Any:
    if row["blocked"]:
        return ""
    label = tables.esc(_("单笔发放"))
    url = tables.esc(row["pay_url"])
    return tables.safe(f'<a class="button small secondary" href="{url}">{label}</a>')


_QUEUE_COLUMNS = (
    tables.Column(_lazy("选择"), _pick),
    tables.Column(_lazy("家庭"), _home),
    tables.Column(_lazy("帮扶项目"), _program),
    tables.Column(_lazy("金额（元）"), lambda r: r["amount"], css="num"),
    tables.Column(_lazy("可列支资金"), lambda r: r["funds"] or tables.muted(_("无您可支出的资金"))),
    tables.Column("", _pay_link, labelled=False),
)


def _batch_form(user: Any, waiting: Any, data: Any = None, files: Any = None) -> BatchPayForm:
    return BatchPayForm(
        data,
        files,
        applications=waiting,
        funds=fund_selectors.managed_funds(user),
    )


@login_required
@require_GET
def payment_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, MANAGE)
    waiting = selectors.payable(user)
    context = _queue_context(request, user, _batch_form(user, waiting), waiting)
    return render(request, "programs/payments/queue.html", context)


@login_required
@require_POST
def payment_batch_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, MANAGE)
    waiting = selectors.payable(user)
    form = _batch_form(user, waiting, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.payment_batch_create(
                actor=user,
                fund=data["fund"],
                method=data["method"],
                applications=list(data["applications"]),
                title=data["title"],
                signed_sheet=data["signed_sheet"],
                paid_on=data["paid_on"],
                date_reason=data["date_reason"],
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            totals = selectors.batch_totals(batch)
            messages.success(
                request,
                _("已发放 %(n)s 笔，共 %(t)s 元。")
                % {"n": totals.count, "t": f"{totals.total:,.2f}"},
            )
            return redirect("programs:payment_batch_detail", pk=batch.pk)
    context = _queue_context(request, user, form, waiting)
    return render(request, "programs/payments/queue.html", context)


# -- One application -------------------------------------------------------------------


@login_required
@GET_POST
def aid_pay(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_application_to_pay(user, pk)
    funds = selectors.pay_funds(user, application)
    posted = request.method == "POST"
    form = PayForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        application=application,
        funds=funds,
    )
    if posted:
        before = selectors.live_payment(application)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.aid_pay(
                    actor=user,
                    application=application,
                    fund=data["fund"],
                    method=data["method"],
                    signed_sheet=data["signed_sheet"],
                    paid_on=data["paid_on"],
                    date_reason=data["date_reason"],
                )
            except PermissionDenied as exc:
                return refused(request, exc)
            except ValidationError as exc:
                _attach_errors(form, exc)
            else:
                if before is not None and payment.pk == before.pk:
                    messages.info(
                        request, _("该申请已经发放，未重复发放；以下是第一次发放的记录。")
                    )
                else:
                    messages.success(
                        request,
                        _("已发放 %(a)s 元给 %(n)s。")
                        % {"a": f"{payment.amount:,.2f}", "n": application.household.name},
                    )
                return redirect("programs:aid_pay", pk=application.pk)
        elif before is not None:
            # A second click on a form already paid: show the first payment.
            messages.info(request, _("该申请已经发放，未重复发放；以下是第一次发放的记录。"))
            return redirect("programs:aid_pay", pk=application.pk)
    live = selectors.live_payment(application)
    household = application.household
    context = {
        "application": application,
        "household": household,
        "form": form,
        "payment": live,
        "payment_account": mask_bank_account(live.bank_account) if live else "",
        "account": mask_bank_account(household.bank_account),
        "past": selectors.past_payments(application),
        "blocked": _sod(user, application),
        "payable": live is None and application.status == ApplicationStatus.APPROVED,
        "has_funds": funds.exists(),
    }
    return render(request, "programs/payments/pay.html", context)


# -- Batches ---------------------------------------------------------------------------


@login_required
@require_GET
def payment_batch_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    batches = selectors.batch_list(user)
    page = Paginator(batches, BATCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "programs/payments/batch_list.html", {"page": page, "query": _query(request)}
    )


@login_required
@require_GET
def payment_batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk)
    payments = selectors.batch_payments(batch)
    # The batch page is shown to chairs and auditors too: accounts are always
    # masked here; the full numbers only go out in the audited bank file.
    rows = [{"payment": p, "account": mask_bank_account(p.bank_account)} for p in payments]
    context = {
        "batch": batch,
        "rows": rows,
        "totals": selectors.batch_totals(batch),
        "can_manage": covers(user, MANAGE, batch.fund.unit),
        "is_bank": batch.method == PaymentMethod.BANK,
    }
    return render(request, "programs/payments/batch_detail.html", context)


def _cell(ws: Any, value: Any, number_format: str | None = None, bold: bool = False) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def bank_workbook(batch: PaymentBatch) -> bytes:
    """The bank's batch transfer file: one row per live payment and a totals
    row. The headers are the bank's, so they stay in Chinese in every locale;
    account numbers are text so no digit is lost to a number format."""
    rows = selectors.bank_file_rows(batch)
    totals = selectors.batch_totals(batch)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="代发明细")
    for letter, width in zip("ABCD", (14, 28, 26, 14), strict=True):
        ws.column_dimensions[letter].width = width
    ws.append(text_row(ws, [_cell(ws, h, bold=True) for h in ("户名", "开户银行", "账号", "金额")]))
    for payment in rows:
        ws.append(
            text_row(
                ws,
                [
                    _cell(ws, payment.account_name),
                    _cell(ws, payment.bank_name),
                    _cell(ws, str(payment.bank_account), "@"),
                    _cell(ws, payment.entry.amount, "0.00"),
                ],
            )
        )
    ws.append(
        text_row(
            ws,
            [
                _cell(ws, "合计", bold=True),
                _cell(ws, f"{totals.count} 笔"),
                _cell(ws, None),
                _cell(ws, totals.total, "0.00", bold=True),
            ],
        )
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@login_required
@require_GET
def payment_batch_bank_file(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk, action=MANAGE)
    if batch.method != PaymentMethod.BANK:
        messages.error(request, _("只有银行转账批次可以导出银行文件。"))
        return redirect("programs:payment_batch_detail", pk=batch.pk)
    content = bank_workbook(batch)
    services.payment_batch_export(actor=user, batch=batch)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="bank-batch-{batch.pk}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- One payment -----------------------------------------------------------------------


@login_required
@require_GET
def payment_sheet(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    payment = selectors.get_payment_for(user, pk)
    if not can_unmask(user, payment.application.household.unit):
        # Names and signatures of the families: as personal as an ID card.
        return HttpResponse(_("您无权查看签收单原件。"), status=403)
    sheet = payment.signed_sheet or (payment.batch.signed_sheet if payment.batch else None)
    if not sheet:
        raise Http404(_("该笔发放没有签收单。"))
    services.payment_sheet_open(actor=user, payment=payment)
    return private_file_response(sheet, download=request.GET.get("download") == "1")


@login_required
@GET_POST
def aid_payment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    payment = selectors.get_payment_for(user, pk, action=MANAGE)
    form = PaymentReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.aid_payment_reverse(
                actor=user, payment=payment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已冲正该笔发放，%(a)s 元已退回“%(f)s”，该申请可以重新发放。")
                % {"a": f"{payment.amount:,.2f}", "f": payment.fund.name},
            )
            return redirect("programs:aid_pay", pk=payment.application_id)
    context = {
        "payment": payment,
        "application": payment.application,
        "household": payment.application.household,
        "account": mask_bank_account(payment.bank_account),
        "form": form,
        "is_loan": hasattr(payment, "loan"),
    }
    return render(request, "programs/payments/reverse.html", context)


urlpatterns: list[URLPattern] = [
    path("payments/", payment_queue, name="payment_queue"),
    path("payments/batch/", payment_batch_create, name="payment_batch_create"),
    path("applications/<int:pk>/pay/", aid_pay, name="aid_pay"),
    path("payment-batches/", payment_batch_list, name="payment_batch_list"),
    path("payment-batches/<int:pk>/", payment_batch_detail, name="payment_batch_detail"),
    path(
        "payment-batches/<int:pk>/bank-file/",
        payment_batch_bank_file,
        name="payment_batch_bank_file",
    ),
    path("payments/<int:pk>/sheet/", payment_sheet, name="payment_sheet"),
    path("payments/<int:pk>/reverse/", aid_payment_reverse, name="aid_payment_reverse"),
]
