"""Forms of the living file: review start and outcome, monthly income, exit,
the exit flag's dismissal and non-cash help. They parse input; the rules are
the services' (cases.services.lifecycle)."""

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import Unit

from .. import clock
from ..models import ExitKind, NonCashKind, ReviewOutcome
from ..services.lifecycle import RECORDABLE_OUTCOMES
from .fields import DateInput, UnitChoiceField


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m", **kwargs)


def _reason(label: Any, required: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": required},
    )


class ReviewStartForm(forms.Form):
    unit = UnitChoiceField(queryset=Unit.objects.none(), label=gettext_lazy("工会"))
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["year"].initial = clock.today().year


class ReviewItemForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("审核结果"),
        choices=[(o.value, o.label) for o in ReviewOutcome if o in RECORDABLE_OUTCOMES],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择审核结果。")},
    )
    checked_on = forms.DateField(label=gettext_lazy("审核日期"), required=False, widget=DateInput())
    notes = forms.CharField(
        label=gettext_lazy("审核说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, sampled: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sampled:
            # An on-site re-check has a date; the service refuses one without.
            self.fields["checked_on"].label = gettext_lazy("实地复核日期")
            self.fields["checked_on"].required = True
            self.fields["checked_on"].error_messages["required"] = gettext_lazy(
                "该户是实地复核抽样户，请填写实地复核（入户）日期。"
            )
        else:
            # A sampled household's date is the day someone stood at the door;
            # it is typed, never assumed.
            self.fields["checked_on"].initial = clock.today()


class MonthlyIncomeForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("月份"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(),
        error_messages={"invalid": gettext_lazy("请按“年-月”填写月份，例如 2025-03。")},
    )
    household_income = forms.DecimalField(
        label=gettext_lazy("家庭月收入（元）"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": "0", "step": "0.01"}),
    )
    household_size = forms.IntegerField(
        label=gettext_lazy("家庭人口"),
        min_value=1,
        max_value=99,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )

    def __init__(self, *args: Any, household_size: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = clock.today()
        # The month just ended is the one usually reported.
        self.fields["month"].initial = (today.replace(day=1) - datetime.timedelta(days=1)).replace(
            day=1
        )
        self.fields["household_size"].initial = household_size


class ExitForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("退出类型"),
        choices=ExitKind.choices,
        error_messages={"required": gettext_lazy("请选择退出类型。")},
    )
    exited_on = forms.DateField(label=gettext_lazy("退出日期"), widget=DateInput())
    reason = _reason(gettext_lazy("退出原因"), gettext_lazy("退出须填写原因。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exited_on"].initial = clock.today()


class ExitFlagDismissForm(forms.Form):
    reason = _reason(gettext_lazy("否决理由"), gettext_lazy("否决脱困提示须填写理由。"))


class NonCashHelpForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("帮扶类型"), choices=NonCashKind.choices)
    given_on = forms.DateField(label=gettext_lazy("日期"), widget=DateInput())
    description = forms.CharField(
        label=gettext_lazy("内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("请填写帮扶内容。")},
    )
    outcome = forms.CharField(
        label=gettext_lazy("结果"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["given_on"].initial = clock.today()


class ReopenForm(forms.Form):
    """The reason asked for when an exited household is filed again; posted to
    the intake area's re-filing view."""

    reason = _reason(gettext_lazy("重新建档理由"), gettext_lazy("重新申请建档须填写理由。"))
