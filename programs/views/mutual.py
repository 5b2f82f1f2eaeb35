"""Mutual-aid screens (互助补充保险合作社, 医疗互助会): the cooperatives, their
member roster (by hand or from an xlsx file) and premiums, claims, the
committee's vote, and paying an approved claim from the cooperative's fund.

The roster import runs inside the request (rosters are small; see
services/roster_import.py): the upload is checked and shown, its rows kept in
the session under a one-time token, and checked again when confirmed."""

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.masking import mask_id_number, mask_phone
from accounts.models import Unit
from accounts.scoping import can_unmask, covers, scope_q
from accounts.web import attach_errors as _attach_errors
from cases import clock
from cases.models import Household

from ..forms.loans import ReversalForm
from ..forms.mutual import (
    CategoryPeriodForm,
    ClaimFilterForm,
    ClaimForm,
    ClaimPayForm,
    EnrollForm,
    MemberFilterForm,
    MemberForm,
    PremiumForm,
    RosterUploadForm,
    VoteForm,
)
from ..models import ApplicationStatus, ClaimStatus, Cooperative, CoopMember, PremiumKind
from ..selectors import mutual as selectors
from ..selectors.loans import reversal_reason
from ..services import mutual as services
from ..services import roster_import as importer
from .applications import refused

PAGE_SIZE = 25
FINANCE = "fund.manage"
EDITOR = "household.edit"
GET_POST = require_http_methods(["GET", "POST"])


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def coop_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(selectors.coop_list(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "programs/mutual/coop_list.html", {"page": page})


class Unmask:
    """Whether the user sees a union's members' ID numbers and phones in
    full (an auditor sees them masked): asked once per union."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.seen: dict[int, bool] = {}

    def __call__(self, unit: Unit) -> bool:
        if unit.pk not in self.seen:
            self.seen[unit.pk] = can_unmask(self.user, unit)
        return self.seen[unit.pk]

    def member(self, member: CoopMember) -> dict[str, str]:
        full = self(member.unit)
        return {
            "id_number": member.id_number if full else mask_id_number(member.id_number),
            "phone": member.phone if full else mask_phone(member.phone),
        }


def _query(request: HttpRequest, drop: str) -> str:
    query = request.GET.copy()
    query.pop(drop, None)
    return query.urlencode()


def _roster_units(user: Any, coop: Cooperative) -> Any:
    """The unions a roster row may be put in by this user."""
    scope = scope_q(user, selectors.ENROLL_ACTIONS, "") or Q(pk__in=[])
    return Unit.objects.filter(scope, path__startswith=coop.unit.path).order_by("path")


@login_required
@require_GET
def coop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The cooperative page: its figures, premiums per year, paid claims by
    category for a period, the member roster and the claims (both paginated
    and filtered, each with its own page number)."""
    user = _user(request)
    coop = selectors.get_coop_for(user, pk)
    year = clock.today().year
    unmask = Unmask(user)
    member_form = MemberFilterForm(request.GET, units=selectors.member_units(user, coop))
    member_filter = selectors.MemberFilter()
    if member_form.is_valid():
        member_filter = selectors.MemberFilter(
            q=member_form.cleaned_data["q"] or "", unit=member_form.cleaned_data["unit"]
        )
    members = selectors.coop_members(user, coop, year, member_filter)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("mpage"))
    can_premium = covers(user, FINANCE, coop.fund.unit)
    rows = [
        {
            "member": m,
            "shown": unmask.member(m),
            "can_premium": can_premium,
            "can_claim": covers(user, EDITOR, m.unit),
            "can_edit": any(covers(user, a, m.unit) for a in selectors.ENROLL_ACTIONS),
        }
        for m in page.object_list
    ]
    claim_form = ClaimFilterForm(request.GET)
    claim_filter = selectors.ClaimFilter()
    if claim_form.is_valid():
        data = claim_form.cleaned_data
        claim_filter = selectors.ClaimFilter(
            status=data["status"],
            category=data["category"],
            date_from=data["submitted_from"],
            date_to=data["submitted_to"],
        )
    claims = Paginator(selectors.coop_claims(user, coop, claim_filter), PAGE_SIZE).get_page(
        request.GET.get("cpage")
    )
    period_form = CategoryPeriodForm(request.GET)
    date_from = date_to = None
    if period_form.is_valid():
        date_from = period_form.cleaned_data["date_from"]
        date_to = period_form.cleaned_data["date_to"]
    period_query = urlencode(
        {k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v}
    )
    return render(
        request,
        "programs/mutual/coop_detail.html",
        {
            "coop": coop,
            "year": year,
            "page": page,
            "rows": rows,
            "member_form": member_form,
            "member_query": _query(request, "mpage"),
            "claims": claims,
            "claim_form": claim_form,
            "claim_query": _query(request, "cpage"),
            "period_form": period_form,
            "period_query": period_query,
            "by_category": selectors.claims_by_category(user, coop, date_from, date_to),
            "premium_years": selectors.premiums_by_year(user, coop),
            "committee": selectors.committee(coop),
            "may_enroll": selectors.may_enroll(user, coop),
            "export_url": reverse("reports:coop_report", args=[coop.pk]),
        },
    )


@login_required
@GET_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """入会: add an ordinary union member to the roster."""
    user = _user(request)
    coop = selectors.get_coop_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    form = MemberForm(request.POST or None, units=_roster_units(user, coop))
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_add(actor=user, cooperative=coop, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            text = _("%(n)s 已加入%(c)s会员名册。") % {"n": member.name, "c": coop.name}
            if member.household_id is not None:
                text += _("已关联其困难职工档案。")
            messages.success(request, text)
            return redirect("programs:coop_detail", pk=coop.pk)
    return render(
        request, "programs/mutual/member_form.html", {"coop": coop, "form": form, "member": None}
    )


@login_required
@GET_POST
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    member = selectors.get_member_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    coop = member.cooperative
    initial = {
        "name": member.name,
        "id_number": member.id_number,
        "unit": member.unit,
        "phone": member.phone,
        "joined_on": member.joined_on,
    }
    form = MemberForm(request.POST or None, initial=initial, units=_roster_units(user, coop))
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("会员信息已保存。"))
            return redirect("programs:coop_detail", pk=coop.pk)
    return render(
        request,
        "programs/mutual/member_form.html",
        {
            "coop": coop,
            "form": form,
            "member": member,
            "file_in_force": services.file_in_force(coop, member.id_number)
            if member.household_id is None
            else None,
        },
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    member = selectors.get_member_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    try:
        services.member_remove(actor=user, member=member)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("programs:member_edit", pk=member.pk)
    messages.success(request, _("%(n)s 已从会员名册中删除。") % {"n": member.name})
    return redirect("programs:coop_detail", pk=member.cooperative_id)


@login_required
@require_POST
def member_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the member to their household file in force, or undo the link."""
    user = _user(request)
    member = selectors.get_member_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    link = request.POST.get("link") == "1"
    try:
        services.member_link(actor=user, member=member, link=link)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已关联困难职工档案。") if link else _("已取消关联。"))
    return redirect("programs:member_edit", pk=member.pk)


ROSTER_KEY = "coop-roster"


@login_required
@GET_POST
def roster_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload → preview (every bad cell, or the rows to add) → confirm."""
    user = _user(request)
    coop = selectors.get_coop_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    posted = request.method == "POST"
    form = RosterUploadForm(request.POST if posted else None, request.FILES if posted else None)
    context: dict[str, Any] = {"coop": coop, "form": form, "errors": [], "preview": None}
    if request.method == "POST" and request.POST.get("token"):
        return _roster_confirm(request, coop, context)
    if request.method == "POST" and form.is_valid():
        try:
            roster = importer.read_roster(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            checked = importer.roster_check(actor=user, cooperative=coop, roster=roster)
            if checked.errors:
                context["errors"] = checked.errors
            else:
                token = secrets.token_urlsafe(16)
                request.session[ROSTER_KEY] = {
                    "token": token,
                    "coop": coop.pk,
                    "rows": roster.rows,
                    "numbers": roster.row_numbers,
                }
                context["preview"] = checked.members
                context["token"] = token
    return render(request, "programs/mutual/roster_import.html", context)


def _roster_confirm(
    request: HttpRequest, coop: Cooperative, context: dict[str, Any]
) -> HttpResponse:
    user = _user(request)
    kept = request.session.get(ROSTER_KEY) or {}
    if kept.get("token") != request.POST.get("token") or kept.get("coop") != coop.pk:
        messages.error(request, _("导入已过期或已完成，请重新上传名册。"))
        return redirect("programs:roster_import", pk=coop.pk)
    roster = importer.Roster(kept["rows"], kept["numbers"], [])
    try:
        added = importer.roster_import(actor=user, cooperative=coop, roster=roster)
    except importer.RosterRefused as exc:
        context["errors"] = exc.cells
        return render(request, "programs/mutual/roster_import.html", context)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("programs:roster_import", pk=coop.pk)
    request.session.pop(ROSTER_KEY, None)
    linked = sum(1 for m in added if m.household_id is not None)
    messages.success(
        request,
        _("已导入 %(n)s 名会员，其中 %(l)s 名已关联困难职工档案。")
        % {"n": len(added), "l": linked},
    )
    return redirect("programs:coop_detail", pk=coop.pk)


@login_required
@require_GET
def roster_template(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    coop = selectors.get_coop_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    response = HttpResponse(
        importer.template_xlsx(coop),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        content_disposition_header(True, _("互助会员名册模板") + ".xlsx") or "attachment"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@GET_POST
def coop_enroll(request: HttpRequest, pk: int) -> HttpResponse:
    """入社: find a household, then enroll it."""
    user = _user(request)
    coop = selectors.get_coop_for(user, pk, actions=selectors.ENROLL_ACTIONS)
    scope = scope_q(user, selectors.ENROLL_ACTIONS, "unit__") or Q(pk__in=[])
    households = Household.objects.filter(scope, unit__path__startswith=coop.unit.path)
    form = EnrollForm(request.POST or None, households=households)
    if request.method == "POST" and form.is_valid():
        household = form.cleaned_data["household"]
        try:
            services.member_enroll(
                actor=user,
                cooperative=coop,
                household=household,
                joined_on=form.cleaned_data["joined_on"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request, _("%(n)s 家已加入%(c)s。") % {"n": household.name, "c": coop.name}
            )
            return redirect("programs:coop_detail", pk=coop.pk)
    term = request.GET.get("q", "").strip()[:50]
    return render(
        request,
        "programs/mutual/coop_enroll.html",
        {
            "coop": coop,
            "form": form,
            "q": term,
            "candidates": selectors.enroll_candidates(user, coop, term),
            "today": clock.today(),
        },
    )


@login_required
@GET_POST
def premium_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    member = selectors.get_member_for(user, pk, actions=(FINANCE,))
    coop = member.cooperative
    premiums = selectors.member_premiums(member)
    # A reversed first premium cannot be recorded again either: offer yearly.
    first_paid = any(row.premium.kind == PremiumKind.FIRST for row in premiums)
    form = PremiumForm(request.POST or None, first_paid=first_paid)
    if request.method == "POST" and form.is_valid():
        try:
            premium = services.premium_record(actor=user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已收取 %(n)s 家 %(y)s 年度%(k)s %(a)s 元，计入“%(f)s”。")
                % {
                    "n": member.name,
                    "y": premium.year,
                    "k": premium.get_kind_display(),
                    "a": premium.amount,
                    "f": coop.fund.name,
                },
            )
            return redirect("programs:coop_detail", pk=coop.pk)
    return render(
        request,
        "programs/mutual/premium_form.html",
        {
            "member": member,
            "coop": coop,
            "form": form,
            "premiums": premiums,
            # The form is for finance of the fund's union: they may reverse too.
            "can_reverse": covers(user, FINANCE, coop.fund.unit),
        },
    )


@login_required
@GET_POST
def premium_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """冲正缴费: take a mistaken premium back out of the cooperative's fund;
    the member counts as not having paid it."""
    user = _user(request)
    premium = selectors.get_premium_for(user, pk, action=FINANCE)
    member = premium.member
    coop = member.cooperative
    form = ReversalForm(request.POST or None)
    reversal = getattr(premium.entry, "reversed_by", None)
    if request.method == "POST" and form.is_valid():
        try:
            services.premium_reverse(
                actor=user, premium=premium, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已冲正 %(n)s 家 %(y)s 年度%(k)s %(a)s 元，款项已从“%(f)s”转回。")
                % {
                    "n": member.name,
                    "y": premium.year,
                    "k": premium.get_kind_display(),
                    "a": f"{premium.amount:,.2f}",
                    "f": coop.fund.name,
                },
            )
            return redirect("programs:premium_record", pk=member.pk)
    return render(
        request,
        "programs/mutual/premium_reverse.html",
        {
            "premium": premium,
            "member": member,
            "coop": coop,
            "form": form,
            "reversal": reversal,
            "reason": reversal_reason(reversal) if reversal is not None else "",
        },
    )


@login_required
@GET_POST
def claim_submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    member = selectors.get_member_for(user, pk, actions=(EDITOR,))
    year = clock.today().year
    premiums = selectors.member_premiums(member)
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = services.claim_submit(actor=user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("互助申请已提交，等待互助委员会表决。"))
            return redirect("programs:claim_detail", pk=claim.pk)
    return render(
        request,
        "programs/mutual/claim_form.html",
        {
            "member": member,
            "coop": member.cooperative,
            "form": form,
            "year": year,
            "paid_this_year": any(
                row.premium.year == year and not row.reversed for row in premiums
            ),
        },
    )


def _claim_page(
    request: HttpRequest, claim: Any, form: VoteForm, pay_form: ClaimPayForm | None = None
) -> HttpResponse:
    user = _user(request)
    votes = selectors.claim_votes(claim)
    application = claim.application
    may_pay = services.may_pay(claim)
    voted = any(v.voter_id == user.pk for v in votes)
    return render(
        request,
        "programs/mutual/claim_detail.html",
        {
            "claim": claim,
            "member": claim.member,
            "coop": claim.member.cooperative,
            "votes": votes,
            "voting": selectors.vote_context(user, claim, votes),
            "form": form,
            "pay_url": reverse("programs:aid_pay", args=[application.pk])
            if application is not None and application.status == ApplicationStatus.APPROVED
            else None,
            "application_url": reverse("programs:application_detail", args=[application.pk])
            if application is not None
            else None,
            "can_pay": covers(user, FINANCE, claim.member.cooperative.fund.unit),
            "paid": services.claim_paid(claim),
            "may_pay": may_pay,
            # Whoever voted on it or submitted it is told why they cannot pay.
            "pay_refused": voted or claim.submitted_by_id == user.pk,
            "pay_form": pay_form or ClaimPayForm(initial={"paid_on": clock.today()}),
        },
    )


@login_required
@require_GET
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.get_claim_for(_user(request), pk)
    return _claim_page(request, claim, VoteForm())


@login_required
@require_POST
def claim_vote(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.get_claim_for(user, pk)
    form = VoteForm(request.POST)
    if form.is_valid():
        try:
            services.claim_vote(actor=user, claim=claim, **form.cleaned_data)
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            claim.refresh_from_db()
            if claim.status == ClaimStatus.APPROVED:
                messages.success(
                    request, _("表决已记录。委员会过半数同意，该互助申请已通过，待财务发放。")
                )
            elif claim.status == ClaimStatus.REJECTED:
                messages.success(request, _("表决已记录。该互助申请未获委员会过半数同意，未通过。"))
            else:
                messages.success(request, _("表决已记录。"))
            return redirect("programs:claim_detail", pk=claim.pk)
    return _claim_page(request, claim, form)


@login_required
@require_POST
def claim_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """发放互助金: finance pays an approved claim from the cooperative's fund."""
    user = _user(request)
    claim = selectors.get_claim_for(user, pk)
    if not covers(user, FINANCE, claim.member.cooperative.fund.unit):
        raise PermissionDenied
    form = ClaimPayForm(request.POST)
    if form.is_valid():
        try:
            entry = services.claim_pay(actor=user, claim=claim, **form.cleaned_data)
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已从“%(f)s”发放互助金 %(a)s 元（%(d)s）。")
                % {
                    "f": claim.member.cooperative.fund.name,
                    "a": f"{entry.amount:,.2f}",
                    "d": entry.occurred_on.isoformat(),
                },
            )
            return redirect("programs:claim_detail", pk=claim.pk)
    return _claim_page(request, claim, VoteForm(), form)


urlpatterns: list[URLPattern] = [
    path("mutual/", coop_list, name="coop_list"),
    path("mutual/<int:pk>/", coop_detail, name="coop_detail"),
    path("mutual/<int:pk>/enroll/", coop_enroll, name="coop_enroll"),
    path("mutual/<int:pk>/members/add/", member_add, name="member_add"),
    path("mutual/<int:pk>/roster/import/", roster_import, name="roster_import"),
    path("mutual/<int:pk>/roster/template/", roster_template, name="roster_template"),
    path("mutual/members/<int:pk>/edit/", member_edit, name="member_edit"),
    path("mutual/members/<int:pk>/remove/", member_remove, name="member_remove"),
    path("mutual/members/<int:pk>/link/", member_link, name="member_link"),
    path("mutual/members/<int:pk>/premium/", premium_record, name="premium_record"),
    path("mutual/premiums/<int:pk>/reverse/", premium_reverse, name="premium_reverse"),
    path("mutual/members/<int:pk>/claim/", claim_submit, name="claim_submit"),
    path("mutual/claims/<int:pk>/", claim_detail, name="claim_detail"),
    path("mutual/claims/<int:pk>/vote/", claim_vote, name="claim_vote"),
    path("mutual/claims/<int:pk>/pay/", claim_pay, name="claim_pay"),
]
