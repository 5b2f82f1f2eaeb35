"""Forms of the civil-affairs round trip."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases.forms.fields import UnitChoiceField
from cases.models import Tier

from ..imports import ImportUploadForm
from ..models import SuggestionKind, SuggestionStatus
from .layouts import layout_choices
from .review import REASON_MAX


class ExportForm(forms.Form):
    unit = UnitChoiceField(queryset=Unit.objects.none(), label=gettext_lazy("报送工会"))
    tier = forms.ModelChoiceField(
        queryset=Tier.objects.none(),
        required=False,
        label=gettext_lazy("困难类别"),
        empty_label=gettext_lazy("全部类别"),
    )
    layout = forms.ChoiceField(choices=layout_choices, label=gettext_lazy("文件格式"))

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["tier"].queryset = Tier.objects.filter(is_active=True)  # type: ignore[attr-defined]


class CompareUploadForm(ImportUploadForm):
    file = forms.FileField(
        allow_empty_file=True,
        label=gettext_lazy("民政返回的比对结果（.xlsx）"),
        help_text=gettext_lazy(
            "表头：身份证号、姓名（可无）、民政状态、月保障金额、核对收入、核对日期；"
            "文件不超过 10 MB。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", gettext_lazy("采纳")), ("reject", gettext_lazy("不采纳"))],
        label=gettext_lazy("处理"),
        error_messages={"required": gettext_lazy("请选择采纳或不采纳。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("理由"),
        max_length=REASON_MAX,
        widget=forms.TextInput,
        error_messages={"required": gettext_lazy("请填写理由。")},
    )


class SuggestionFilter(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", gettext_lazy("全部建议")), *SuggestionKind.choices],
        required=False,
        label=gettext_lazy("建议"),
    )
    status = forms.ChoiceField(
        choices=[("", gettext_lazy("全部状态")), *SuggestionStatus.choices],
        required=False,
        label=gettext_lazy("处理结果"),
    )
