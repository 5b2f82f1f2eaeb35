"""Forms of the household file: its details, members, attachments and the list filter."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import Q, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.i18n import pick_name
from accounts.models import Unit
from accounts.refcache import remembered

from .. import idnumber
from ..choices import AttachmentKind
from ..models import Cause, FileCategory, Household, HouseholdStatus, Member, Tier
from ..selectors.households import HouseholdFilter
from ..services import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from ..services.households import consent_signed_on
from ..uploads import checked_upload
from .fields import (
    DateInput,
    FastSelect,
    FastTextInput,
    UnitChoiceField,
    bank_account_value,
    non_negative,
    phone_value,
)


class HouseholdForm(forms.ModelForm):
    unit = UnitChoiceField(queryset=Unit.objects.none(), label=gettext_lazy("所属工会"))
    secondary_causes = forms.ModelMultipleChoiceField(
        queryset=Cause.objects.filter(is_active=True),
        required=False,
        label=gettext_lazy("次要致困原因"),
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=FileCategory.objects.none(),
        required=False,
        label=gettext_lazy("档案分类"),
        help_text=gettext_lazy("可多选；不选表示不属于任何分类。"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": gettext_lazy("所选档案分类“%(value)s”不存在或已停用。")},
    )

    class Meta:
        model = Household
        fields = ["unit", *HOUSEHOLD_FIELDS, "secondary_causes", "categories"]
        widgets = {
            "note": forms.Textarea(attrs={"rows": 3}),
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18}),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "bank_account": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        }

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["tier"].queryset = Tier.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["main_cause"].queryset = Cause.objects.filter(is_active=True)  # type: ignore[attr-defined]
        # A category retired since the file was saved stays ticked and
        # keepable; only active ones can be newly chosen.
        carried = Q(households=self.instance) if self.instance.pk else Q(pk__in=[])
        self.fields["categories"].queryset = FileCategory.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | carried
        ).distinct()
        for name in ("income_wages", "income_business", "income_property", "income_transfer",
                     "income_other", "expense_medical", "expense_disability",
                     "expense_education", "expense_housing", "housing_area"):  # fmt: skip
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "min": "0"})
            self.fields[name].min_value = 0  # type: ignore[attr-defined]
            self.fields[name].validators.append(non_negative)
        # The head counts. The database refuses 0 too, but only here can the
        # message name the field.
        size = self.fields["household_size"]
        size.validators = [v for v in size.validators if not isinstance(v, MinValueValidator)]
        size.validators.append(
            MinValueValidator(1, gettext_lazy("家庭人口至少为 1 人（含户主）。"))
        )
        size.widget.attrs["min"] = "1"

    def clean_id_number(self) -> str:
        return idnumber.parse(self.cleaned_data["id_number"]).number

    def clean_phone(self) -> str:
        return phone_value(self.cleaned_data.get("phone") or "")

    def clean_bank_account(self) -> str:
        return bank_account_value(self.cleaned_data.get("bank_account") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        main, secondary = data.get("main_cause"), data.get("secondary_causes") or []
        if main is not None and main in secondary:
            self.add_error("secondary_causes", _("次要致困原因不能与主要致困原因相同。"))
        if data.get("disability_type") and not data.get("disability_grade"):
            self.add_error("disability_grade", _("填写了残疾类别时，请选择残疾等级。"))
        return data

    def _post_clean(self) -> None:
        # The service decides uniqueness (it names the holding unit); skip the
        # model's own unique checks that would leak less helpful messages.
        pass

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in HOUSEHOLD_FIELDS if f in self.cleaned_data}


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = list(MEMBER_FIELDS)
        widgets = {"id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["annual_income"].validators.append(non_negative)
        self.fields["annual_income"].widget.attrs.update({"inputmode": "decimal", "min": "0"})

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number") or ""
        return idnumber.parse(value).number if value.strip() else ""


class _MemberFormSet(forms.BaseInlineFormSet):
    default_error_messages = {
        "too_many_forms": gettext_lazy("家庭成员最多登记 %(num)d 人。"),
    }

    def add_fields(self, form: Any, index: Any) -> None:
        super().add_fields(form, index)
        # Django lets the hidden id name any member of any household; only
        # this household's members may be named (none for a new household).
        form.fields["id"].queryset = self.get_queryset()

    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        head = getattr(self.instance, "id_number", "") or ""
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            number = form.cleaned_data.get("id_number")
            if not number:
                continue
            if number in seen or number == head:
                form.add_error("id_number", _("同一家庭内身份证号重复。"))
            seen.add(number)


MemberFormSet = forms.inlineformset_factory(
    Household,
    Member,
    form=MemberForm,
    formset=_MemberFormSet,
    extra=0,
    can_delete=True,
    max_num=20,
    validate_max=True,
    # A tampered management form asking for 100,000 members builds no more
    # than this many forms before it is refused (Django's default is 1,000
    # above max_num, every one of them a form with its querysets).
    absolute_max=40,
)


def member_changes(formset: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """Turn a valid formset into the service's (upserts, deletions)."""
    upserts, deletions = [], []
    for form in formset.forms:
        data = form.cleaned_data
        if not data:
            continue
        pk = form.instance.pk
        if data.get("DELETE"):
            if pk:
                deletions.append(pk)
            continue
        upserts.append({"id": pk, **{f: data.get(f) for f in MEMBER_FIELDS}})
    return upserts, deletions


Options = list[tuple[int, str]]


def _filter_lists() -> tuple[Options, Options, Options]:
    """Tiers, causes and file categories for the list filter, each in its
    list's order, read in one query (three round trips before)."""

    def read() -> list[tuple[int, str, str, int, int]]:
        columns = ("pk", "name", "name_en", "sort_order", "kind")
        tiers = Tier.objects.order_by().annotate(kind=Value(0)).values_list(*columns)
        causes = Cause.objects.order_by().annotate(kind=Value(1)).values_list(*columns)
        categories = FileCategory.objects.order_by().annotate(kind=Value(2)).values_list(*columns)
        return list(tiers.union(causes, categories, all=True).order_by("kind", "sort_order", "pk"))

    rows = remembered("filter-lists", read)
    lists: tuple[Options, Options, Options] = ([], [], [])
    for pk, name, name_en, _order, kind in rows:
        lists[kind].append((pk, pick_name(name, name_en)))
    return lists


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("搜索"),
        required=False,
        max_length=50,
        widget=FastTextInput(attrs={"placeholder": gettext_lazy("姓名、身份证号、电话或档案编号")}),
    )
    unit = UnitChoiceField(queryset=Unit.objects.none(), required=False, label=gettext_lazy("工会"))
    tier = forms.ModelChoiceField(
        queryset=Tier.objects.all(),
        required=False,
        label=gettext_lazy("困难类别"),
        widget=FastSelect,
    )
    cause = forms.ModelChoiceField(
        queryset=Cause.objects.all(),
        required=False,
        label=gettext_lazy("致困原因"),
        widget=FastSelect,
    )
    # Plain choices read once: checking a chosen category then costs no
    # second query, and the list page keeps its fixed budget.
    category = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label=gettext_lazy("档案分类"),
        widget=FastSelect,
        error_messages={"invalid_choice": gettext_lazy("所选档案分类不存在。")},
    )
    status = forms.ChoiceField(
        choices=[("", gettext_lazy("全部状态")), *HouseholdStatus.choices],
        required=False,
        label=gettext_lazy("状态"),
        widget=FastSelect,
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        tiers, causes, categories = _filter_lists()
        # The options as plain choices; a chosen tier or cause is still
        # checked against (and cleaned from) the field's queryset.
        for name, options in (("tier", tiers), ("cause", causes)):
            field = self.fields[name]
            field.choices = [("", field.empty_label), *options]  # type: ignore[attr-defined]
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("全部分类")),
            *categories,
        ]

    def to_filter(self) -> HouseholdFilter:
        data = self.cleaned_data
        return HouseholdFilter(
            q=data.get("q") or "",
            unit_id=data["unit"].pk if data.get("unit") else None,
            unit=data.get("unit"),
            tier_id=data["tier"].pk if data.get("tier") else None,
            cause_id=data["cause"].pk if data.get("cause") else None,
            category_id=data.get("category"),
            status=data.get("status") or "",
        )


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        choices=AttachmentKind.choices, label=gettext_lazy("材料类型"), widget=FastSelect
    )
    file = forms.FileField(label=gettext_lazy("文件"))
    signed_on = forms.DateField(
        label=gettext_lazy("签署日期"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("上传授权书时必填：户主签字的日期。"),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        self.content_type = checked_upload(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "signed_on" not in self.errors:
            try:
                data["signed_on"] = consent_signed_on(data.get("kind", ""), data.get("signed_on"))
            except ValidationError as exc:
                self.add_error(None, exc)
        return data
