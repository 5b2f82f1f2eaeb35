"""Mutual-aid screens (互助补充保险合作社, 医疗互助会): the cooperatives, their
members and premiums, claims and the committee's vote. An approved claim is
an approved application, paid on the ordinary payment screens."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scoping import covers
from accounts.web import attach_errors as _attach_errors
from cases import clock
from cases.models import Household

from ..forms.loans import ReversalForm
from ..forms.mutual import ClaimForm, EnrollForm, PremiumForm, VoteForm
from ..models import ApplicationStatus, ClaimStatus, PremiumKind
from ..selectors import mutual as selectors
from ..selectors.loans import reversal_reason, scope_q
from ..services import mutual as services

PAGE_SIZE = 25
FINANCE = "fund.manage"
EDITOR = "household.edit"
GET_POST = require_http_methods(["GET", "POST"])


def _user(request: HttpRequest) -> Any:
    return request.user


def _url(name: str, pk: int) -> str | None:
    # The payment screens belong to another area: link when they are there.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


@login_required
@require_GET
def coop_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(selectors.coop_list(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "programs/mutual/coop_list.html", {"page": page})


@login_required
@require_GET
def coop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    coop = selectors.get_coop_for(user, pk)
    year = clock.today().year
    members = selectors.coop_members(user, coop, year)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "member": m,
            "can_premium": covers(user, FINANCE, coop.fund.unit),
            "can_claim": covers(user, EDITOR, m.household.unit),
        }
        for m in page.object_list
    ]
    return render(
        request,
        "programs/mutual/coop_detail.html",
        {
            "coop": coop,
            "year": year,
            "page": page,
            "rows": rows,
            "claims": selectors.coop_claims(user, coop),
            "committee": selectors.committee(coop),
            "may_enroll": selectors.may_enroll(user, coop),
        },
    )


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
                    "n": member.household.name,
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
                    "n": member.household.name,
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


def _claim_page(request: HttpRequest, claim: Any, form: VoteForm) -> HttpResponse:
    user = _user(request)
    votes = selectors.claim_votes(claim)
    application = claim.application
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
            "pay_url": _url("programs:aid_pay", application.pk)
            if application is not None and application.status == ApplicationStatus.APPROVED
            else None,
            "application_url": _url("programs:application_detail", application.pk)
            if application is not None
            else None,
            "can_pay": covers(user, FINANCE, claim.member.cooperative.fund.unit),
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


urlpatterns: list[URLPattern] = [
    path("mutual/", coop_list, name="coop_list"),
    path("mutual/<int:pk>/", coop_detail, name="coop_detail"),
    path("mutual/<int:pk>/enroll/", coop_enroll, name="coop_enroll"),
    path("mutual/members/<int:pk>/premium/", premium_record, name="premium_record"),
    path("mutual/premiums/<int:pk>/reverse/", premium_reverse, name="premium_reverse"),
    path("mutual/members/<int:pk>/claim/", claim_submit, name="claim_submit"),
    path("mutual/claims/<int:pk>/", claim_detail, name="claim_detail"),
    path("mutual/claims/<int:pk>/vote/", claim_vote, name="claim_vote"),
]
