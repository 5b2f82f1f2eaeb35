"""Forms of 回访核实. They parse input; who may verify, and whether the
amount makes sense, is programs.services.verification's to decide."""

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases.forms.fields import UnitChoiceField

from ..models import Channel, Outcome


class RecordForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("核实结果"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择核实结果。")},
    )
    amount_received = forms.DecimalField(
        label=gettext_lazy("实收金额（元）"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text=gettext_lazy("仅“部分收到”时填写，须大于 0 且小于发放金额。"),
        error_messages={
            "invalid": gettext_lazy("请填写正确的金额。"),
            "max_decimal_places": gettext_lazy("金额最多保留两位小数。"),
            "max_digits": gettext_lazy("金额过大。"),
            "min_value": gettext_lazy("金额不能为负数。"),
        },
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("核实方式"),
        choices=Channel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择核实方式（电话或入户）。")},
    )
    note = forms.CharField(
        label=gettext_lazy("情况说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("未全额收到或联系不上时必填：户主怎么说、打了几次电话等。"),
        error_messages={"max_length": gettext_lazy("情况说明最多 500 个字。")},
    )


class CaseCloseForm(forms.Form):
    resolution = forms.CharField(
        label=gettext_lazy("处理结果"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": gettext_lazy("请填写处理结果。"),
            "max_length": gettext_lazy("处理结果最多 2000 个字。"),
        },
    )


class UnitForm(forms.Form):
    """A form that names one of the person's unions (the queryset given)."""

    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("工会"),
        error_messages={
            "required": gettext_lazy("请选择工会。"),
            "invalid_choice": gettext_lazy("所选工会不存在或不在您的范围内。"),
        },
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class ShareForm(UnitForm):
    share_percent = forms.IntegerField(
        label=gettext_lazy("回访抽查比例（%）"),
        min_value=1,
        max_value=100,
        help_text=gettext_lazy(
            "每个发放批次和每月单笔发放按此比例抽查，至少 1 户；下级工会未设置时沿用。"
        ),
        error_messages={
            "required": gettext_lazy("请填写抽查比例。"),
            "invalid": gettext_lazy("抽查比例须为 1 到 100 之间的整数。"),
            "min_value": gettext_lazy("抽查比例须为 1 到 100 之间的整数。"),
            "max_value": gettext_lazy("抽查比例须为 1 到 100 之间的整数。"),
        },
    )


class MonthDrawForm(UnitForm):
    month = forms.CharField(
        label=gettext_lazy("月份"),
        widget=forms.TextInput(attrs={"type": "month"}),
        error_messages={"required": gettext_lazy("请选择月份。")},
    )

    def clean_month(self) -> datetime.date:
        text = (self.cleaned_data.get("month") or "").strip()
        try:
            return datetime.datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("月份格式应为 2026-11。")) from None
