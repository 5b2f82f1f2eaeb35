"""Intake steps (一进二看三算四议五评六公示七确认), notices and objections.

Each view parses a form and calls one service of cases/services/intake.py.
What the service refuses comes back to the user as a message in Chinese: an
illegal move as a message on the household page, bad input on the form, and
a move the user may not make as a 403 page that says why.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scoping import covers, require_action, units_for

from .. import clock
from ..forms.intake import (
    AssessmentForm,
    DiscussionForm,
    EvaluateForm,
    IntakeVisitForm,
    NoticeCreateForm,
    NoticeFilterForm,
    NoticeProofForm,
    ObjectionForm,
    ObjectionResolveForm,
    ReasonForm,
)
from ..models import Household, IntakeNotice, ObjectionOutcome
from ..models import HouseholdStatus as S
from ..selectors import intake as selectors
from ..selectors.households import get_household_for
from ..services import intake
from ..services.intake import IllegalTransition
from ..uploads import private_file_response

NOTICE_PAGE_SIZE = 20
NOTICE_ENTRY_PAGE_SIZE = 50


def _user(request: HttpRequest) -> Any:
    return request.user


def _posted(request: HttpRequest) -> tuple[Any, Any]:
    """Bound data for a POST even when it is empty, so the form says what is
    missing instead of showing itself blank again."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def _detail(household: Household) -> str:
    return reverse("cases:household_detail", args=[household.pk]) + "#intake"


def _texts(exc: ValidationError, form: Any = None) -> list[str]:
    """The service's reasons, each naming its field when it has one."""
    if not hasattr(exc, "error_dict"):
        return [str(m) for m in exc.messages]
    texts = []
    for name, errors in exc.error_dict.items():
        field = form.fields.get(name) if form is not None else None
        for error in errors:
            for message in error.messages:
                texts.append(f"{field.label}：{message}" if field is not None else message)
    return texts


def _refused(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """A 403 that says why: a chair learns she may not decide her own case."""
    reason = str(exc) or _("您无权执行此操作。")
    return render(request, "cases/intake/refused.html", {"reason": reason}, status=403)


def _failed(request: HttpRequest, exc: Exception, *, form: Any, back: str) -> HttpResponse | None:
    """Show a service's refusal. None means: render the form again with errors."""
    if isinstance(exc, PermissionDenied):
        return _refused(request, exc)
    if not isinstance(exc, ValidationError):
        raise exc
    if isinstance(exc, IllegalTransition) or form is None or not hasattr(exc, "error_dict"):
        for text in _texts(exc, form):
            messages.error(request, text)
        return redirect(back)
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)
    return None


def _wrong_step(
    request: HttpRequest, household: Household, statuses: tuple[str, ...]
) -> HttpResponse | None:
    """Opening a step's form when the file is elsewhere: say so instead."""
    if household.status in statuses:
        return None
    messages.warning(
        request,
        _("档案当前为“%(s)s”，不能办理此步骤。") % {"s": household.get_status_display()},
    )
    return redirect(_detail(household))


def _form_messages(request: HttpRequest, form: Any) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else str(error))


# -- 一进二看 ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def intake_visit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    if request.method == "GET" and (wrong := _wrong_step(request, household, (S.DRAFT,))):
        return wrong
    form = IntakeVisitForm(_posted(request)[0])
    if request.method == "POST" and form.is_valid():
        try:
            intake.intake_visit_log(actor=user, household=household, data=form.service_data())
        except (PermissionDenied, ValidationError) as exc:
            if response := _failed(request, exc, form=form, back=_detail(household)):
                return response
        else:
            messages.success(request, _("已登记入户核查（一进二看）。下一步：经济状况核算。"))
            return redirect(_detail(household))
    return render(request, "cases/intake/visit.html", {"household": household, "form": form})


# -- 三算 --------------------------------------------------------------------

# As the panel offers it: not while a decided case is out for public notice.
ASSESSABLE = (S.VISITED, S.ASSESSED, S.DISCUSSED, S.FILED)


@login_required
@require_http_methods(["GET", "POST"])
def intake_assess(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    if request.method == "GET" and (wrong := _wrong_step(request, household, ASSESSABLE)):
        return wrong
    form = AssessmentForm(_posted(request)[0], household=household)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            assessment = intake.assessment_record(
                actor=user, household=household, data=form.service_data()
            )
        except (PermissionDenied, ValidationError) as exc:
            if response := _failed(request, exc, form=form, back=_detail(household)):
                return response
        else:
            messages.success(
                request,
                _("已保存经济状况核算：人均月收入 %(pc)s 元。") % {"pc": assessment.per_capita},
            )
            return redirect(_detail(household))
    elif request.method == "GET":
        result = _means(household, dict(form.initial))
    return render(
        request,
        "cases/intake/assess.html",
        {"household": household, "form": form, **(result or {})},
    )


def _means(household: Household, data: dict[str, Any]) -> dict[str, Any]:
    result = intake.means_preview(household, data)
    return {
        "result": result,
        "suggested_tier": intake.tier_for_band(result.band),
        "band_label": intake.band_label(result.band or ""),
    }


@login_required
@require_POST
def intake_assess_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The calculator's arithmetic for what is typed so far; nothing saved."""
    household = get_household_for(_user(request), pk, action="household.edit")
    form = AssessmentForm(request.POST, household=household)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        context.update(_means(household, form.cleaned_data))
    return render(request, "cases/intake/_means_result.html", context)


# -- 四议 --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def intake_discuss(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    if request.method == "GET" and (wrong := _wrong_step(request, household, (S.ASSESSED,))):
        return wrong
    form = DiscussionForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            intake.discussion_record(
                actor=user,
                household=household,
                held_on=data["held_on"],
                attendees=data["attendees"],
                minutes=data["minutes"],
                upload=data.get("file"),
            )
        except (PermissionDenied, ValidationError) as exc:
            if response := _failed(request, exc, form=form, back=_detail(household)):
                return response
        else:
            messages.success(request, _("已登记民主评议，等待工会主席评定。"))
            return redirect(_detail(household))
    return render(request, "cases/intake/discuss.html", {"household": household, "form": form})


# -- 五评 --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def intake_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="case.decide")
    if request.method == "GET":
        if wrong := _wrong_step(request, household, (S.DISCUSSED,)):
            return wrong
        try:
            intake.check_actor(user, household, intake.CHAIR)
        except PermissionDenied as exc:
            return _refused(request, exc)
    assessment = intake.latest_assessment(household)
    suggested = assessment.suggested_tier if assessment else None
    form = EvaluateForm(_posted(request)[0], suggested=suggested)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            intake.case_evaluate(
                actor=user,
                household=household,
                tier=data["tier"],
                reason=data["reason"],
                override=data["override"],
            )
        except (PermissionDenied, ValidationError) as exc:
            if response := _failed(request, exc, form=form, back=_detail(household)):
                return response
        else:
            messages.success(
                request, _("已评定为“%(t)s”。下一步：发布公示。") % {"t": data["tier"].name}
            )
            return redirect(_detail(household))
    context = {"household": household, "form": form, "assessment": assessment}
    return render(request, "cases/intake/evaluate.html", context)


# -- sending back, rejecting, reopening ----------------------------------------


def _reasoned(
    request: HttpRequest, pk: int, *, action: str, service: Any, done: str
) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action=action)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _form_messages(request, form)
        return redirect(_detail(household))
    try:
        moved = service(actor=user, household=household, reason=form.cleaned_data["reason"])
    except (PermissionDenied, ValidationError) as exc:
        return _failed(request, exc, form=None, back=_detail(household)) or redirect(
            _detail(household)
        )
    messages.success(request, done % {"s": moved.get_status_display()})
    return redirect(_detail(household))


@login_required
@require_POST
def intake_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _reasoned(
        request,
        pk,
        action="household.edit",
        service=intake.case_send_back,
        done=_("已退回，档案现为“%(s)s”。"),
    )


@login_required
@require_POST
def intake_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _reasoned(
        request,
        pk,
        action="case.decide",
        service=intake.case_reject,
        done=_("已驳回申请，档案现为“%(s)s”。"),
    )


@login_required
@require_POST
def intake_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _reasoned(
        request,
        pk,
        action="household.edit",
        service=intake.case_reopen,
        done=_("已重新申请建档，档案现为“%(s)s”，请重新入户核查。"),
    )


# -- 七确认 --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def intake_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="case.decide")
    if request.method == "POST":
        try:
            filed = intake.case_confirm(actor=user, household=household)
        except (PermissionDenied, ValidationError) as exc:
            return _failed(request, exc, form=None, back=_detail(household)) or redirect(
                _detail(household)
            )
        messages.success(request, _("已确认建档，档案编号 %(n)s。") % {"n": filed.file_number})
        return redirect(_detail(household))
    if wrong := _wrong_step(request, household, (S.NOTICED,)):
        return wrong
    try:
        intake.check_actor(user, household, intake.CHAIR)
    except PermissionDenied as exc:
        return _refused(request, exc)
    context = {
        "household": household,
        "notice": intake.current_notice(household),
        "blockers": intake.confirm_blockers(household),
    }
    return render(request, "cases/intake/confirm.html", context)


# -- 六公示 --------------------------------------------------------------------


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.view")
    page = Paginator(selectors.notice_list(user), NOTICE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "today": clock.today(),
        "can_create": bool(units_for(user, "household.edit").exists()),
    }
    return render(request, "cases/intake/notice_list.html", context)


def _post_units(user: Any) -> QuerySet:
    return units_for(user, "household.edit").filter(is_active=True).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest) -> HttpResponse:
    """Choose the households by a filter (previewed page by page, a few left
    out by hand), then post the notice for all of them at once."""
    user = _user(request)
    require_action(user, "household.edit")
    units = _post_units(user)
    households = selectors.evaluated_households(user)
    kwargs = {"units": units, "households": households}
    if request.method == "POST":
        form = NoticeCreateForm(request.POST, request.FILES, **kwargs)
        chosen = form.filter_kwargs() if form.is_valid() else None
        if chosen is not None:
            data = form.cleaned_data
            try:
                notice = intake.notice_create(
                    actor=user,
                    title=data["title"],
                    starts_on=data["starts_on"],
                    posted_at=data["posted_at"],
                    working_days=data["working_days"],
                    proof=data.get("proof"),
                    **chosen,
                )
            except PermissionDenied as exc:
                return _refused(request, exc)
            except ValidationError as exc:
                # A case someone moved meanwhile: the filter is still worth keeping.
                if hasattr(exc, "error_dict") and not isinstance(exc, IllegalTransition):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                messages.success(
                    request,
                    _("已发布公示：%(a)s 至 %(b)s，共 %(n)d 个工作日，%(c)s 户。")
                    % {
                        "a": notice.starts_on,
                        "b": notice.ends_on,
                        "n": notice.working_days,
                        "c": notice.entries.count(),
                    },
                )
                return redirect("cases:notice_detail", pk=notice.pk)
        filter_form = NoticeFilterForm(request.POST, **kwargs)
    else:
        filter_form = NoticeFilterForm(request.GET if "unit" in request.GET else None, **kwargs)
        # The households travel as the filter's hidden fields; the form
        # itself holds what the notice says.
        form = NoticeCreateForm(**kwargs)
        if not filter_form.is_bound:
            _preselect(form, request.GET.get("household"), households, units)
            filter_form = NoticeFilterForm(
                {
                    "unit": getattr(form.initial.get("unit"), "pk", ""),
                    "households": form.initial.get("households") or [],
                    "only": bool(form.initial.get("households")),
                },
                **kwargs,
            )
    context = {"form": form, "filter_form": filter_form, **_matches(request, filter_form)}
    return render(request, "cases/intake/notice_form.html", context)


def _preselect(
    form: NoticeCreateForm, pk: str | None, households: QuerySet, units: QuerySet
) -> None:
    """Coming from a household page: list it alone and post for its own union."""
    chosen = households.filter(pk=int(pk)).first() if pk and pk.isdigit() else None
    if chosen is not None:
        form.initial["households"] = [chosen.pk]
        form.initial["unit"] = units.filter(pk=chosen.unit_id).first() or units.first()
    else:
        form.initial["unit"] = units.first()


MATCH_PAGE_SIZE = 50


def _matches(request: HttpRequest, filter_form: NoticeFilterForm) -> dict[str, Any]:
    """The preview: one page of the households the notice would list, the
    ones left out, and the links that leave one out or take it back."""
    if not filter_form.is_bound or not filter_form.is_valid():
        return {"page": None}
    chosen = filter_form.filter_kwargs()
    page = Paginator(selectors.notice_matches(**chosen), MATCH_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    base = QueryDict(mutable=True)
    base["unit"] = str(chosen["unit"].pk)
    base.setlist("tiers", [str(t.pk) for t in chosen["tiers"]])
    base.setlist("households", [str(h.pk) for h in chosen["households"] or []])
    base.setlist("exclude", [str(pk) for pk in chosen["exclude"]])
    rows = []
    for household in page.object_list:
        query = base.copy()
        query.appendlist("exclude", str(household.pk))
        rows.append({"household": household, "leave_out": query.urlencode()})
    left_out = []
    for household in Household.objects.filter(pk__in=chosen["exclude"]).order_by("name", "pk"):
        query = base.copy()
        query.setlist("exclude", [str(pk) for pk in chosen["exclude"] if pk != household.pk])
        left_out.append({"household": household, "take_back": query.urlencode()})
    return {
        "page": page,
        "rows": rows,
        "query": base.urlencode(),
        "left_out": left_out,
        "only_listed": chosen["households"] is not None,
        "listed": chosen["households"] or [],
        "max_excluded": intake.MAX_EXCLUDED,
    }


@login_required
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    notice = selectors.get_notice_for(user, pk)
    page = Paginator(selectors.notice_entries(notice), NOTICE_ENTRY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "notice": notice,
        "page": page,
        "entries": list(page.object_list),
        "query": "",
        **selectors.notice_detail(notice),
        "today": clock.today(),
        "can_edit": covers(user, "household.edit", notice.unit),
        "can_decide": covers(user, "case.decide", notice.unit),
        "proof_form": NoticeProofForm(),
    }
    return render(request, "cases/intake/notice_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def notice_proof(request: HttpRequest, pk: int) -> HttpResponseBase:
    """GET shows the photo of the posted notice; POST adds or replaces it."""
    user = _user(request)
    if request.method == "GET":
        notice = selectors.get_notice_for(user, pk)
        return _proof_response(notice)
    notice = selectors.get_notice_for(user, pk, action="household.edit")
    form = NoticeProofForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_messages(request, form)
    else:
        try:
            intake.notice_proof_add(actor=user, notice=notice, proof=form.cleaned_data["proof"])
        except PermissionDenied as exc:
            return _refused(request, exc)
        messages.success(request, _("已上传张贴照片。"))
    return redirect("cases:notice_detail", pk=notice.pk)


def _proof_response(notice: IntakeNotice) -> HttpResponseBase:
    if not notice.proof:
        raise Http404
    return private_file_response(notice.proof)


# -- objections ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objection_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    if request.method == "GET" and (wrong := _wrong_step(request, household, (S.NOTICED,))):
        return wrong
    form = ObjectionForm(_posted(request)[0])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            intake.objection_record(
                actor=user,
                household=household,
                content=data["content"],
                received_on=data["received_on"],
                raised_by=data["raised_by"],
            )
        except (PermissionDenied, ValidationError) as exc:
            if response := _failed(request, exc, form=form, back=_detail(household)):
                return response
        else:
            messages.success(request, _("已登记公示异议，处理前不能确认建档。"))
            return redirect(_detail(household))
    context = {
        "household": household,
        "form": form,
        "notice": intake.current_notice(household),
    }
    return render(request, "cases/intake/objection_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def objection_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    objection = selectors.get_objection_for(user, pk)
    household = objection.household
    if request.method == "GET":
        if objection.outcome != ObjectionOutcome.OPEN:
            messages.warning(request, _("该异议已处理。"))
            return redirect(_detail(household))
        try:
            intake.check_actor(user, household, intake.CHAIR)
        except PermissionDenied as exc:
            return _refused(request, exc)
    form = ObjectionResolveForm(_posted(request)[0])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            resolved = intake.objection_resolve(
                actor=user,
                objection=objection,
                outcome=data["outcome"],
                resolution=data["resolution"],
            )
        except (PermissionDenied, ValidationError) as exc:
            if response := _failed(request, exc, form=form, back=_detail(household)):
                return response
        else:
            if resolved.outcome == ObjectionOutcome.UPHELD:
                text = _("异议成立，档案已退回“已评定”，须重新公示。")
            else:
                text = _("异议不成立，已记录处理说明。")
            messages.success(request, text)
            return redirect(_detail(household))
    context = {"household": household, "objection": objection, "form": form}
    return render(request, "cases/intake/objection_resolve.html", context)


urlpatterns: list[URLPattern] = [
    path("households/<int:pk>/intake/visit/", intake_visit, name="intake_visit"),
    path("households/<int:pk>/intake/assess/", intake_assess, name="intake_assess"),
    path(
        "households/<int:pk>/intake/assess/preview/",
        intake_assess_preview,
        name="intake_assess_preview",
    ),
    path("households/<int:pk>/intake/discuss/", intake_discuss, name="intake_discuss"),
    path("households/<int:pk>/intake/evaluate/", intake_evaluate, name="intake_evaluate"),
    path("households/<int:pk>/intake/send-back/", intake_send_back, name="intake_send_back"),
    path("households/<int:pk>/intake/reject/", intake_reject, name="intake_reject"),
    path("households/<int:pk>/intake/reopen/", intake_reopen, name="intake_reopen"),
    path("households/<int:pk>/intake/confirm/", intake_confirm, name="intake_confirm"),
    path("households/<int:pk>/objections/new/", objection_record, name="objection_record"),
    path("objections/<int:pk>/resolve/", objection_resolve, name="objection_resolve"),
    path("notices/", notice_list, name="notice_list"),
    path("notices/new/", notice_create, name="notice_create"),
    path("notices/<int:pk>/", notice_detail, name="notice_detail"),
    path("notices/<int:pk>/proof/", notice_proof, name="notice_proof"),
]


def panel_context(user: Any, household: Household) -> dict[str, Any]:
    """What the household page's intake panel shows (a fixed number of queries)."""
    return {
        "intake": selectors.intake_panel(user, household),
        # One form per action: each needs its own ids on the same page.
        "intake_reasons": {
            key: ReasonForm(auto_id=f"id_{key}_%s") for key in ("send_back", "reject", "reopen")
        },
    }
