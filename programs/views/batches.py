"""Campaign batches (送温暖, 金秋助学): a caseworker drafts a line for every
household a filter finds, amends or removes lines, submits the batch; a chair
approves or rejects every line at his level at once, or only the ticked ones."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.money import yuan
from accounts.scoping import covers, require_action, units_for

from ..forms.batches import BatchDecideForm, BatchForm, LineAmendForm, LineRemoveForm
from ..models import Application, Batch, BatchStatus, Kind
from ..models.aid import COUNTED
from ..selectors import applications as selectors
from ..services import applications as app_services
from ..services import batches as services
from .applications import _is_htmx, attach_errors, refused

VIEW = selectors.VIEW
EDIT = selectors.EDIT
DECIDE = selectors.DECIDE
PAGE_SIZE = 25
LINE_PAGE_SIZE = 50


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(selectors.batch_list(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "programs/batches/batch_list.html",
        {"page": page, "rows": list(page.object_list), "query": ""},
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, EDIT)
    units = units_for(user, EDIT).filter(is_active=True)
    programs = selectors.programs_seen_by(user).filter(is_active=True)
    if request.method == "GET" and _is_htmx(request):
        # The live count as the filter changes; nothing is written.
        form = BatchForm(request.GET, units=units, programs=programs)
        criteria = form.preview_criteria()
        count = selectors.batch_candidates_count(**criteria) if criteria else None
        return render(request, "programs/batches/_count.html", {"count": count})
    form = BatchForm(request.POST or None, units=units, programs=programs)
    if request.method == "POST" and form.is_valid():
        try:
            batch, skipped = services.batch_create(
                actor=user,
                program=form.cleaned_data["program"],
                title=form.cleaned_data["title"],
                **form.criteria(),
                **form.handout(),
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            drafted = batch.lines.count()
            messages.success(
                request, _("已起草批次“%(t)s”：%(n)s 户。") % {"t": batch.title, "n": drafted}
            )
            if skipped:
                messages.warning(
                    request,
                    _("%(n)s 户未纳入本批次，原因见下方“未纳入的家庭”。") % {"n": len(skipped)},
                )
            return redirect("programs:batch_detail", pk=batch.pk)
    if not form.is_bound:
        # The user's own union when the others lie below it (a county and its
        # grassroots unions): the usual choice, one tap fewer on a phone.
        top = units.order_by("path").first()
        if top is not None and not units.exclude(path__startswith=top.path).exists():
            form.initial["unit"] = top
    return render(request, "programs/batches/batch_form.html", {"form": form})


# -- one batch --------------------------------------------------------------------------


def _line_row(user: Any, batch: Batch, line: Application, **extra: Any) -> dict[str, Any]:
    can_amend = batch.status == BatchStatus.DRAFT and line.status == "draft"
    return {
        "line": line,
        "can_amend": can_amend and covers(user, EDIT, line.household.unit),
        "can_decide": selectors.may_decide(user, line),
        "amend_form": extra.get("amend_form"),
        "cash_part": line.amount - line.goods_value,
    }


def _totals(batch: Batch) -> dict[str, Any]:
    """The batch's figures, and for a goods campaign the goods part of its
    total (the rest is cash)."""
    totals = selectors.batch_totals(batch)
    if batch.program.kind in (Kind.GOODS, Kind.CASH_GOODS):
        goods = batch.lines.filter(status__in=COUNTED).aggregate(g=Sum("goods_value"))["g"]
        totals["goods"] = yuan(goods)
        totals["cash"] = totals["total"] - totals["goods"]
    return totals


def _batch_page(
    request: HttpRequest, batch: Batch, *, decide_form: BatchDecideForm | None = None
) -> HttpResponse:
    user = _user(request)
    page = Paginator(selectors.batch_lines(batch), LINE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_line_row(user, batch, line) for line in page.object_list]
    can_edit = covers(user, EDIT, batch.unit)
    awaits = selectors.batch_awaits(user, batch)
    context = {
        "batch": batch,
        "page": page,
        "rows": rows,
        "query": "",
        "totals": _totals(batch),
        "skipped": selectors.batch_skipped(batch),
        "can_submit": can_edit and batch.status == BatchStatus.DRAFT,
        "can_decide": awaits,
        "decide_form": decide_form or (BatchDecideForm(batch=batch) if awaits else None),
    }
    return render(request, "programs/batches/batch_detail.html", context)


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch_for(_user(request), pk, action=VIEW)
    return _batch_page(request, batch)


def _back(line: Application) -> HttpResponse:
    return redirect(reverse("programs:batch_detail", args=[line.batch_id]) + f"#line-{line.pk}")


def _row_response(
    request: HttpRequest, line: Application, form: LineAmendForm | None = None
) -> HttpResponse:
    user = _user(request)
    line = selectors.get_batch_line_for(user, line.pk, action=VIEW)
    batch = line.batch
    assert batch is not None
    row = _line_row(user, batch, line, amend_form=form)
    # The batch's totals change with the row: swapped in beside it (out of band).
    context = {
        "row": row,
        "batch": batch,
        "totals": _totals(batch),
        "oob_totals": True,
    }
    return render(request, "programs/batches/_line_row.html", context)


@login_required
@require_POST
def batch_line_amend(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    line = selectors.get_batch_line_for(user, pk, action=EDIT)
    form = LineAmendForm(request.POST)
    if form.is_valid():
        try:
            line = app_services.application_amend(
                actor=user,
                application=line,
                amount=form.cleaned_data["amount"],
                amount_reason=form.cleaned_data["amount_reason"],
                goods_value=form.cleaned_data["goods_value"].strip(),
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            if _is_htmx(request):
                return _row_response(request, line)
            messages.success(
                request,
                _("已将 %(n)s 的金额改为 %(a)s 元。")
                % {"n": line.household.name, "a": line.amount},
            )
            return _back(line)
    if _is_htmx(request):
        return _row_response(request, line, form)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{line.household.name}：{label}：{error}")
    return _back(line)


@login_required
@require_POST
def batch_line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    line = selectors.get_batch_line_for(user, pk, action=EDIT)
    form = LineRemoveForm(request.POST)
    form.is_valid()
    try:
        line = services.batch_line_remove(
            actor=user, application=line, reason=form.cleaned_data.get("reason") or ""
        )
    except PermissionDenied as exc:
        return refused(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        if _is_htmx(request):
            # The row no longer matches the batch (submitted meanwhile): reload it all.
            reload = HttpResponse(status=204)
            reload["HX-Refresh"] = "true"
            return reload
    else:
        if _is_htmx(request):
            return _row_response(request, line)
        messages.success(request, _("已将 %(n)s 移出本批次。") % {"n": line.household.name})
    return _back(line)


@login_required
@require_POST
def batch_submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk, action=EDIT)
    try:
        batch = services.batch_submit(actor=user, batch=batch)
    except PermissionDenied as exc:
        return refused(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("已提交批次“%(t)s”，等待工会主席审批。") % {"t": batch.title},
        )
    return redirect("programs:batch_detail", pk=batch.pk)


@login_required
@require_POST
def batch_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk, action=DECIDE)
    form = BatchDecideForm(request.POST, batch=batch)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            result = services.batch_decide(
                actor=user,
                batch=batch,
                approve=approve,
                note=form.cleaned_data["note"],
                lines=form.line_ids(),
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            done = (_("已同意 %(n)s 条申请。") if approve else _("已不同意 %(n)s 条申请。")) % {
                "n": result["decided"]
            }
            messages.success(request, done)
            for reason in result["refused"]:
                messages.warning(request, _("未处理：%(r)s") % {"r": reason})
            if result["left"]:
                messages.info(
                    request,
                    _("另有 %(n)s 条申请须由其他工会主席审批。") % {"n": result["left"]},
                )
            return redirect("programs:batch_detail", pk=batch.pk)
    return _batch_page(request, batch, decide_form=form)


urlpatterns: list[URLPattern] = [
    path("batches/", batch_list, name="batch_list"),
    path("batches/new/", batch_create, name="batch_create"),
    path("batches/<int:pk>/", batch_detail, name="batch_detail"),
    path("batch-lines/<int:pk>/amend/", batch_line_amend, name="batch_line_amend"),
    path("batch-lines/<int:pk>/remove/", batch_line_remove, name="batch_line_remove"),
    path("batches/<int:pk>/submit/", batch_submit, name="batch_submit"),
    path("batches/<int:pk>/decide/", batch_decide, name="batch_decide"),
]
