"""审计核验: the auditor's page for the hash-chained audit trail: the latest
daily digests, and a form that queues the export of a period
(reports/audit_export.py)."""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import ChainDigest
from cases import clock
from cases.forms.fields import DateInput

from ..audit_export import audit_export_start, require_export

# The digests shown: one row per chain for this many of the latest days.
DIGEST_ROWS = 40


class AuditExportForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("起始日期"), widget=DateInput())
    end = forms.DateField(label=gettext_lazy("截止日期"), widget=DateInput())


@login_required
@require_http_methods(["GET", "POST"])
def audit_export(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_export(user)
    today = clock.today()
    form = AuditExportForm(request.POST or None, initial={"start": today, "end": today})
    if request.method == "POST" and form.is_valid():
        try:
            job = audit_export_start(
                actor=user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("reports:job_detail", pk=job.pk)
    # The latest digests, newest first: a fixed number of rows, one query.
    digests = ChainDigest.objects.order_by("-day", "chain")[:DIGEST_ROWS]
    return render(request, "reports/audit/export.html", {"form": form, "digests": digests})


urlpatterns = [
    path("audit/export/", audit_export, name="audit_export"),
]
