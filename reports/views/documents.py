"""打印/导出: every document of reports/generators behind one thin view.

The view asks the generator for the object (403 without the role, 404
outside the person's units), reads the options, and either serves the file
or, for a big one, starts a background job and sends the person to its
progress page. A page without an object id (a program's ledger, an aid
notice, a sign-off sheet before paying) shows its options form first.
"""

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.scoping import has_action

from ..documents import Output, draw, export_record, in_background, job_params, one_snapshot
from ..generators import REGISTRY
from ..generators.base import PDF, XLSX, Generator
from ..jobs import job_start

# Query keys that choose the file, not its content.
FILE_KEYS = ("format", "archive")
UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')

# The documents chosen by options rather than from an object's page.
INDEX = (
    (
        "program_disbursements",
        gettext_lazy("帮扶资金发放台账"),
        gettext_lazy("按帮扶项目和发放期间列出每笔发放及冲正，附合计和大写金额。"),
    ),
    (
        "aid_notice",
        gettext_lazy("帮扶情况公示表"),
        gettext_lazy(
            "按项目或发放批次列出受助人、困难类别、致困原因和金额，身份证号按统一规则隐藏。"
        ),
    ),
    (
        "signoff",
        gettext_lazy("现金/实物发放签收单"),
        gettext_lazy("发放前打印：已批准待发放的申请，每人一行，留签名栏。"),
    ),
    (
        "verification_report",
        gettext_lazy("回访核实情况表"),
        gettext_lazy("按抽样期间和工会列出抽查、已核实、全额收到和问题户数及核实率。"),
    ),
    (
        "complaint_statistics",
        gettext_lazy("投诉办理情况统计表"),
        gettext_lazy(
            "按受理期间统计各工会、各类别投诉的受理、按期办结、超期办结和超期未办结件数。"
        ),
    ),
)


def _user(request: HttpRequest) -> Any:
    return request.user


def _format(request: HttpRequest, generator: Generator) -> str:
    fmt = request.GET.get("format") or PDF
    if fmt not in generator.formats:
        raise Http404
    return fmt


def _file_name(output: Output, title: str, number: str) -> str:
    stem = UNSAFE.sub("_", title).strip("_")[:60] or "document"
    return f"{stem}-{number}.{output.filename.rsplit('.', 1)[-1]}"


def _file_response(output: Output, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(output.content, content_type=output.content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or ""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _options_page(
    request: HttpRequest, generator: Generator, target: Any, options: Any, label: str
) -> HttpResponse:
    context = {
        "generator": generator,
        "target": target,
        "form": options,
        "label": label,
        "has_xlsx": XLSX in generator.formats,
    }
    return render(request, "reports/documents/options.html", context)


@login_required
@require_GET
def document(request: HttpRequest, report: str, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    generator = REGISTRY[report]
    target = generator.target(user, pk)
    fmt = _format(request, generator)
    archive = request.GET.get("archive") == "1"
    query = request.GET
    wanted = generator.ready(query)
    options = generator.options(user, target, query if wanted else None)
    label = next((str(t) for name, t, _d in INDEX if name == report), _("打印/导出"))
    if not wanted or not options.is_valid():
        return _options_page(request, generator, target, options, label)
    with one_snapshot():
        doc = generator.build(user, target, options.cleaned_data)
        background = in_background(doc, fmt)
        output = None if background else draw(doc, fmt, archive=archive)
    if output is not None:
        # After the snapshot, which writes nothing (reports.documents.one_snapshot).
        export_record(user=user, document=doc, fmt=fmt, archive=archive)
        filename = _file_name(output, doc.title, doc.number)
        return _file_response(output, filename, inline=fmt == PDF)
    chosen = {k: v for k, v in query.lists() if k not in FILE_KEYS}
    job = job_start(
        actor=user,
        kind="document",
        title=f"{doc.title}（{fmt.upper()}）",
        params=job_params(generator, pk, chosen, fmt, archive),
    )
    messages.info(
        request,
        _("共 %(n)s 行，文件较大，已转入后台生成；完成后可在本页下载。") % {"n": doc.rows},
    )
    return redirect("reports:job_detail", pk=job.pk)


@login_required
@require_GET
def document_index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    entries = [
        {"name": name, "title": title, "description": description}
        for name, title, description in INDEX
        if has_action(user, REGISTRY[name].action)
    ]
    if not entries:
        raise PermissionDenied
    return render(request, "reports/documents/index.html", {"entries": entries})


def _route(route: str, report: str) -> URLPattern:
    return path(route, document, {"report": report}, name=report)


urlpatterns: list[URLPattern] = [
    path("documents/", document_index, name="documents"),
    _route("documents/households/<int:pk>/card/", "household_card"),
    _route("documents/applications/<int:pk>/approval/", "approval_form"),
    _route("documents/funds/<int:pk>/disbursements/", "fund_disbursements"),
    _route("documents/funds/<int:pk>/statement/", "fund_statement"),
    _route("documents/cooperatives/<int:pk>/claims/", "coop_report"),
    _route("documents/payment-batches/<int:pk>/signoff/", "batch_signoff"),
    _route("documents/notices/<int:pk>/", "intake_notice"),
    _route("documents/disbursements/", "program_disbursements"),
    _route("documents/aid-notice/", "aid_notice"),
    _route("documents/signoff/", "signoff"),
    _route("documents/verification/", "verification_report"),
    _route("documents/complaints/", "complaint_statistics"),
]
