"""What a person may choose for a document: a period, a program, a union, a
payment batch. Every choice is limited to what the person may see, so a
document can never be pointed at another union's rows."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases.forms.fields import PeriodForm, UnitChoiceField
from programs.models import Application, Batch, PaymentBatch, PaymentMethod, Program


class PeriodOptions(PeriodForm):
    """A document's period (cases.forms.fields.PeriodForm)."""


class ProgramChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Program) -> str:  # type: ignore[override]
        return f"{obj.display_name}（{obj.unit.name}）"


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PaymentBatch) -> str:  # type: ignore[override]
        # In the union's time zone: a batch made at 00:30 is that day's.
        return f"{obj.title} · {obj.fund.name}（{timezone.localtime(obj.created_at):%Y-%m-%d}）"


class AidBatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Batch) -> str:  # type: ignore[override]
        return f"{obj.title} · {obj.program.display_name}（{obj.year}）"


class ProgramLedgerOptions(PeriodOptions):
    """发放台账 of one program, across the funds the person may read."""

    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        label=gettext_lazy("帮扶项目"),
        error_messages={
            "required": gettext_lazy("请选择帮扶项目。"),
            "invalid_choice": gettext_lazy("所选项目不存在或不在您的范围内。"),
        },
    )
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("资金所属工会"),
        required=False,
        empty_label=gettext_lazy("全部"),
    )

    def __init__(self, *args: Any, programs: QuerySet, units: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        # Fields in the order a person fills them in.
        self.order_fields(["program", "unit", "date_from", "date_to"])


class AidNoticeOptions(PeriodOptions):
    """帮扶公示: who received what, by program, payment batch or aid batch.

    A filter, never a list of households: a notice of 5,000 payments is one
    short query string, and the generator reads the rows it matches."""

    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        label=gettext_lazy("帮扶项目"),
        required=False,
        empty_label=gettext_lazy("全部项目"),
    )
    batch = BatchChoiceField(
        queryset=PaymentBatch.objects.none(),
        label=gettext_lazy("发放批次"),
        required=False,
        empty_label=gettext_lazy("不限批次"),
    )
    aid_batch = AidBatchChoiceField(
        queryset=Batch.objects.none(),
        label=gettext_lazy("帮扶批次"),
        required=False,
        empty_label=gettext_lazy("不限帮扶批次"),
        help_text=gettext_lazy("如送温暖、金秋助学批次：列出该批次中已发放的每一户。"),
    )
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("公示范围（工会）"),
        required=False,
        empty_label=gettext_lazy("全部"),
    )
    title = forms.CharField(label=gettext_lazy("公示标题"), max_length=100, required=False)
    posted_at = forms.CharField(label=gettext_lazy("张贴地点"), max_length=100, required=False)

    def __init__(
        self,
        *args: Any,
        programs: QuerySet,
        batches: QuerySet,
        units: QuerySet,
        aid_batches: QuerySet | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["batch"].queryset = batches  # type: ignore[attr-defined]
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["aid_batch"].queryset = (  # type: ignore[attr-defined]
            aid_batches if aid_batches is not None else Batch.objects.none()
        )
        for name in ("program", "batch", "aid_batch"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "所选内容不存在或不在您的范围内。"
            )
        self.order_fields(
            ["program", "batch", "aid_batch", "unit", "date_from", "date_to", "title"]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = any(data.get(name) for name in ("program", "batch", "aid_batch"))
        if not chosen and not self.errors:
            self.add_error("program", _("请选择帮扶项目、发放批次或帮扶批次。"))
        return data


class SignoffOptions(forms.Form):
    """签收单 for approved applications not yet paid (a cash or goods hand-out)."""

    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        label=gettext_lazy("帮扶项目"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("所选项目没有待发放的申请，或不在您的范围内。"),
        },
    )
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("所属工会"),
        required=False,
        empty_label=gettext_lazy("全部"),
    )
    method = forms.ChoiceField(
        label=gettext_lazy("发放方式"),
        choices=[
            (PaymentMethod.CASH, PaymentMethod.CASH.label),
            (PaymentMethod.GOODS, PaymentMethod.GOODS.label),
        ],
        initial=PaymentMethod.CASH,
    )
    application = forms.ModelMultipleChoiceField(
        queryset=Application.objects.none(),
        required=False,
        widget=forms.MultipleHiddenInput,
        error_messages={
            "invalid_choice": gettext_lazy("所选申请不是待发放的已批准申请，或不在您的范围内。"),
            "invalid_pk_value": gettext_lazy("申请编号不正确。"),
        },
    )

    def __init__(
        self, *args: Any, programs: QuerySet, units: QuerySet, applications: QuerySet, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["application"].queryset = applications  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("program") and not data.get("application") and not self.errors:
            self.add_error("program", _("请选择帮扶项目。"))
        return data
