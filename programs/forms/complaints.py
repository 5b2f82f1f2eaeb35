"""Forms of the complaint screens. They parse input; who may do what, and
the deadline, are the services'."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import Unit, User
from cases import clock
from cases.forms.fields import UnitChoiceField

from ..models import ComplaintCategory, ComplaintChannel, ComplaintDecision
from ..selectors.complaints import ALL, CLOSED, MINE, OPEN, OVERDUE


class UnitFilter(forms.Form):
    """A union to narrow a list or a count to, among `units`."""

    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("所属工会"),
        required=False,
        empty_label=gettext_lazy("全部工会"),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class ComplaintFilterForm(UnitFilter):
    view = forms.ChoiceField(
        label=gettext_lazy("范围"),
        required=False,
        choices=[
            (MINE, gettext_lazy("我承办的")),
            (OPEN, gettext_lazy("未办结")),
            (OVERDUE, gettext_lazy("已超期")),
            (CLOSED, gettext_lazy("已办结")),
            (ALL, gettext_lazy("全部")),
        ],
    )
    category = forms.ChoiceField(
        label=gettext_lazy("投诉类别"),
        required=False,
        choices=[("", gettext_lazy("全部类别")), *ComplaintCategory.choices],
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return obj.full_name or obj.username


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("投诉类别"),
        choices=[("", gettext_lazy("请选择")), *ComplaintCategory.choices],
        error_messages={"required": gettext_lazy("请选择投诉类别。")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("投诉渠道"),
        choices=ComplaintChannel.choices,
        initial=ComplaintChannel.PHONE,
        error_messages={"required": gettext_lazy("请选择投诉渠道。")},
    )
    complainant_name = forms.CharField(
        label=gettext_lazy("投诉人姓名"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("可不填（匿名）；本人在系统提出时为登记人本人。"),
    )
    complainant_phone = forms.CharField(
        label=gettext_lazy("投诉人联系方式"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    received_on = forms.DateField(
        label=gettext_lazy("受理日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("默认今天；办结期限从受理次日起按工作日计算。"),
    )
    content = forms.CharField(
        label=gettext_lazy("投诉内容"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": gettext_lazy("请填写投诉内容。")},
    )
    subject = UserChoiceField(
        queryset=User.objects.none(),
        label=gettext_lazy("被投诉干部"),
        required=False,
        empty_label=gettext_lazy("不针对具体干部"),
        help_text=gettext_lazy(
            "指名投诉某位干部时，仅上级工会主席和监督审计人员可以查看，本人不可见。"
        ),
        error_messages={
            "invalid_choice": gettext_lazy("被投诉干部须是该工会或上级工会的工作人员。")
        },
    )

    def __init__(self, *args: Any, cadres: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = cadres  # type: ignore[attr-defined]
        self.fields["received_on"].initial = clock.today()

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class StepForm(forms.Form):
    """A form on the complaint's page, which shows several at once: each
    names its inputs' ids after itself, so every label finds its input."""

    id_prefix = "step"

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class AssignForm(StepForm):
    id_prefix = "assign"
    owner = UserChoiceField(
        queryset=User.objects.none(),
        label=gettext_lazy("承办人"),
        error_messages={
            "required": gettext_lazy("请选择承办人。"),
            "invalid_choice": gettext_lazy("承办人须是有权查看该投诉的帮扶干部或主席。"),
        },
    )
    note = forms.CharField(label=gettext_lazy("交办说明"), max_length=300, required=False)

    def __init__(self, *args: Any, owners: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]


class ReplyForm(StepForm):
    id_prefix = "reply"
    reply = forms.CharField(
        label=gettext_lazy("答复意见"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("请填写答复意见。")},
    )


class CloseForm(ReplyForm):
    id_prefix = "close"
    decision = forms.ChoiceField(
        label=gettext_lazy("办理结论"),
        choices=[("", gettext_lazy("请选择")), *ComplaintDecision.choices],
        error_messages={"required": gettext_lazy("请选择办理结论。")},
    )
    field_order = ["decision", "reply"]


class ReopenForm(StepForm):
    id_prefix = "reopen"
    reason = forms.CharField(
        label=gettext_lazy("重新办理理由"),
        max_length=300,
        error_messages={"required": gettext_lazy("重新办理须填写理由。")},
    )


class PeriodForm(UnitFilter):
    field_order = ["date_from", "date_to", "unit"]

    date_from = forms.DateField(
        label=gettext_lazy("受理日期自"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext_lazy("结束日期不能早于开始日期。"))
        return data
