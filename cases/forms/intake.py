"""Forms of the intake steps, notices and objections.

They only parse and check input; the services in cases/services/intake.py
decide whether a move is allowed.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit

from .. import clock
from ..meanstest import EXCLUSIONS
from ..models import Assessment, CaseRules, Household, ObjectionOutcome, Tier, Visit
from ..services.intake import EXPENSE_FIELDS, INCOME_FIELDS, MAX_EXCLUDED
from ..uploads import checked_upload
from .fields import DateInput, UnitChoiceField, non_negative, not_in_future


def _camera(attrs: dict[str, str] | None = None) -> forms.ClearableFileInput:
    # On a phone this opens the back camera straight away.
    return forms.ClearableFileInput(
        attrs={"accept": "image/*", "capture": "environment", **(attrs or {})}
    )


class IntakeVisitForm(forms.ModelForm):
    """一进二看: what the caseworker saw at the door."""

    class Meta:
        model = Visit
        fields = [
            "visited_on", "seen_housing", "seen_appliances", "seen_health", "seen_schooling",
            *Visit.SIX_KNOWNS, "needs", "help_given",
        ]  # fmt: skip
        widgets = {
            "visited_on": DateInput(),
            "seen_housing": forms.Textarea(attrs={"rows": 2}),
            "seen_appliances": forms.Textarea(attrs={"rows": 2}),
            "seen_health": forms.Textarea(attrs={"rows": 2}),
            "seen_schooling": forms.Textarea(attrs={"rows": 2}),
            "needs": forms.Textarea(attrs={"rows": 2}),
            "help_given": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = clock.today()
        self.fields["visited_on"].validators.append(not_in_future)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen = ("seen_housing", "seen_appliances", "seen_health", "seen_schooling")
        if not any((data.get(f) or "").strip() for f in seen):
            # 二看 is the point of the visit: a visit that saw nothing is not one.
            self.add_error("seen_housing", _("请至少填写一项入户看到的情况。"))
        return data

    def _post_clean(self) -> None:
        # The service builds and saves the visit; the form only parses.
        pass

    def service_data(self) -> dict[str, Any]:
        return {"kind": "home", **self.cleaned_data}


class AssessmentForm(forms.Form):
    """三算: the means-test calculator."""

    assessed_on = forms.DateField(
        label=gettext_lazy("核算日期"), widget=DateInput(), validators=[not_in_future]
    )
    household_size = forms.IntegerField(
        label=gettext_lazy("家庭人口"),
        validators=[MinValueValidator(1, gettext_lazy("家庭人口至少为 1 人（含户主）。"))],
        widget=forms.NumberInput(attrs={"min": "1", "inputmode": "numeric"}),
    )
    accident_cost = forms.DecimalField(
        label=gettext_lazy("意外事故支出"),
        max_digits=14,
        decimal_places=2,
        required=False,
        validators=[non_negative],
        help_text=gettext_lazy("因意外事故产生的支出（元），无则留空。"),
    )
    exclusions = forms.MultipleChoiceField(
        label=gettext_lazy("排除情形"),
        choices=list(EXCLUSIONS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (*INCOME_FIELDS, *EXPENSE_FIELDS):
            model_field: Any = Assessment._meta.get_field(name)
            self.fields[name] = forms.DecimalField(
                label=model_field.verbose_name,
                max_digits=14,
                decimal_places=2,
                required=False,
                validators=[non_negative],
                widget=forms.NumberInput(
                    attrs={"inputmode": "decimal", "min": "0", "step": "0.01"}
                ),
            )
        self.fields["accident_cost"].widget.attrs.update({"inputmode": "decimal", "min": "0"})
        if not self.is_bound:
            self.initial = {
                "assessed_on": clock.today(),
                "household_size": household.household_size,
                **{f: getattr(household, f) for f in (*INCOME_FIELDS, *EXPENSE_FIELDS)},
            }

    def income_fields(self) -> list[forms.BoundField]:
        return [self[f] for f in INCOME_FIELDS]

    def expense_fields(self) -> list[forms.BoundField]:
        return [self[f] for f in EXPENSE_FIELDS]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class DiscussionForm(forms.Form):
    """四议: the committee's discussion."""

    held_on = forms.DateField(
        label=gettext_lazy("会议日期"), widget=DateInput(), validators=[not_in_future]
    )
    attendees = forms.CharField(
        label=gettext_lazy("参会人员"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("姓名之间用顿号或逗号分隔。"),
    )
    minutes = forms.CharField(
        label=gettext_lazy("会议纪要"), widget=forms.Textarea(attrs={"rows": 4})
    )
    file = forms.FileField(
        label=gettext_lazy("会议记录附件"),
        required=False,
        help_text=gettext_lazy("可选：会议记录扫描件或照片（PDF、JPG、PNG）。"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["held_on"].initial = clock.today()

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload:
            checked_upload(upload)
        return upload or None


class EvaluateForm(forms.Form):
    """五评: the chair sets the tier."""

    tier = forms.ModelChoiceField(queryset=Tier.objects.none(), label=gettext_lazy("困难类别"))
    reason = forms.CharField(
        label=gettext_lazy("评定意见"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    override = forms.CharField(
        label=gettext_lazy("排除情形认定理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("经济状况核算提示了排除情形时必填。"),
    )

    def __init__(self, *args: Any, suggested: Tier | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = Tier.objects.filter(is_active=True)  # type: ignore[attr-defined]
        if suggested is not None:
            self.fields["tier"].initial = suggested.pk


class ReasonForm(forms.Form):
    """Sending back, rejecting and reopening all need a written reason."""

    reason = forms.CharField(
        label=gettext_lazy("理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class IdListField(forms.Field):
    """A short list of ids carried in hidden inputs (the households left out)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError):
            raise ValidationError(_("家庭编号不正确。")) from None


class NoticeFilterForm(forms.Form):
    """六公示, which households: every evaluated household of a union (and the
    unions below it) of the chosen tiers, or only those picked on their
    pages, less a few left out by hand. A filter, not one field per
    household, so a notice of thousands posts like a notice of one."""

    unit = UnitChoiceField(queryset=Unit.objects.none(), label=gettext_lazy("公示单位"))
    tiers = forms.ModelMultipleChoiceField(
        queryset=Tier.objects.none(),
        label=gettext_lazy("困难类别"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选表示不限。"),
    )
    # Only these (coming from a household's page): a handful of ids.
    households = forms.ModelMultipleChoiceField(
        queryset=Household.objects.none(),
        label=gettext_lazy("公示家庭"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": gettext_lazy("所选家庭不是待公示的已评定家庭，或不在您的范围内。"),
            "invalid_pk_value": gettext_lazy("家庭编号不正确。"),
        },
    )
    # Set when the households were picked by hand: unticking them all must
    # not turn the notice into one of every evaluated household.
    only = forms.BooleanField(required=False, widget=forms.HiddenInput)
    exclude = IdListField(label=gettext_lazy("不列入公示的家庭"), required=False)

    def __init__(
        self, *args: Any, units: QuerySet[Unit], households: QuerySet[Household], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["tiers"].queryset = Tier.objects.filter(is_active=True)  # type: ignore[attr-defined]
        field = self.fields["households"]
        field.queryset = households  # type: ignore[attr-defined]
        field.label_from_instance = lambda h: f"{h.name}（{h.unit.name}）"  # type: ignore[attr-defined]
        self._evaluated = households

    def clean_exclude(self) -> list[int]:
        ids = self.cleaned_data.get("exclude") or []
        if len(ids) > MAX_EXCLUDED:
            return ids  # the service names the limit
        units = self.fields["unit"].queryset  # type: ignore[attr-defined]
        found = Household.objects.filter(pk__in=ids, unit__in=units).count() if ids else 0
        if found != len(set(ids)):
            raise ValidationError(_("不列入公示的家庭中有不在您范围内的家庭，请刷新页面后重试。"))
        return ids

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit = data.get("unit")
        outside = [h.name for h in data.get("households") or [] if unit and not unit.covers(h.unit)]
        if outside:
            self.add_error(
                "households",
                _("%(names)s 不属于所选公示单位。") % {"names": "、".join(outside)},
            )
        if data.get("only") and not data.get("households") and "households" not in self.errors:
            self.add_error("households", _("请至少选择一户已评定的家庭。"))
        return data

    def listed(self) -> list[Household] | None:
        """The households picked by hand, or None for everyone the filter finds."""
        chosen = list(self.cleaned_data.get("households") or [])
        return chosen if chosen or self.cleaned_data.get("only") else None

    def filter_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "unit": data["unit"],
            "tiers": list(data.get("tiers") or []),
            "households": self.listed(),
            "exclude": data.get("exclude") or [],
        }


class NoticeCreateForm(NoticeFilterForm):
    """六公示: post the households the filter finds for a number of working days."""

    title = forms.CharField(
        label=gettext_lazy("标题"), max_length=100, initial=gettext_lazy("困难职工建档公示")
    )
    starts_on = forms.DateField(label=gettext_lazy("公示开始日期"), widget=DateInput())
    working_days = forms.IntegerField(
        label=gettext_lazy("公示期（工作日）"),
        min_value=1,
        max_value=60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "max": "60"}),
    )
    posted_at = forms.CharField(
        label=gettext_lazy("张贴地点"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如：厂区公告栏、社区宣传栏")}),
    )
    proof = forms.FileField(
        label=gettext_lazy("张贴照片"),
        required=False,
        widget=_camera(),
        help_text=gettext_lazy("可稍后在公示页面补传。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_on"].initial = clock.today()
        self.fields["working_days"].initial = CaseRules.current().notice_working_days

    def clean_proof(self) -> Any:
        upload = self.cleaned_data.get("proof")
        if upload:
            checked_upload(upload, images_only=True)
        return upload or None


class NoticeProofForm(forms.Form):
    proof = forms.FileField(label=gettext_lazy("张贴照片"), widget=_camera())

    def clean_proof(self) -> Any:
        upload = self.cleaned_data["proof"]
        checked_upload(upload, images_only=True)
        return upload


class ObjectionForm(forms.Form):
    received_on = forms.DateField(
        label=gettext_lazy("收到日期"), widget=DateInput(), validators=[not_in_future]
    )
    raised_by = forms.CharField(
        label=gettext_lazy("异议人"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("可匿名"),
    )
    content = forms.CharField(
        label=gettext_lazy("异议内容"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = clock.today()


class ObjectionResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("处理结果"),
        choices=[
            (ObjectionOutcome.UPHELD.value, ObjectionOutcome.UPHELD.label),
            (ObjectionOutcome.DISMISSED.value, ObjectionOutcome.DISMISSED.label),
        ],
        widget=forms.RadioSelect,
        help_text=gettext_lazy("异议成立时，档案退回“已评定”，须重新公示。"),
    )
    resolution = forms.CharField(
        label=gettext_lazy("处理说明"), widget=forms.Textarea(attrs={"rows": 3})
    )
