"""Forms for pairing helpers and logging follow-up visits at the door."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit

from .. import clock
from ..models import HelperPerson, HelperRole, Household, Visit, VisitKind
from ..services import followup
from .fields import DateInput, UnitChoiceField, phone_value


class RosterPersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parts = [p for p in (obj.post, obj.unit.name) if p]
        return f"{obj.name}（{'，'.join(parts)}）" if parts else obj.name


class HelperAssignForm(forms.Form):
    person = RosterPersonField(
        queryset=None,
        label=gettext_lazy("帮扶人"),
        help_text=gettext_lazy("从本工会及上级工会的帮扶人名册中选择。"),
        error_messages={
            "invalid_choice": gettext_lazy(
                "所选人员不在该家庭所属工会或其上级工会的帮扶人名册中，不能担任帮扶人。"
            ),
            "required": gettext_lazy("请选择帮扶人。"),
        },
    )
    role = forms.ChoiceField(
        choices=HelperRole.choices,
        label=gettext_lazy("帮扶人身份"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择帮扶人身份。")},
    )
    start_on = forms.DateField(label=gettext_lazy("开始日期"), widget=DateInput())
    is_first = forms.BooleanField(
        label=gettext_lazy("设为第一帮扶人"),
        required=False,
        help_text=gettext_lazy("每户只有一名第一帮扶人；勾选后将替换现有的第一帮扶人。"),
    )

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = followup.roster_choices(household)  # type: ignore[attr-defined]
        self.fields["start_on"].initial = clock.today()
        self.fields["start_on"].widget.attrs["max"] = clock.today().isoformat()


class LoginField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.full_name or obj.username
        return f"{name}（{obj.username}）" if obj.full_name else name


class HelperPersonForm(forms.ModelForm):
    """A roster entry: who they are and how to reach them; a login only for
    helpers who log their own visits."""

    user = LoginField(
        queryset=None,
        required=False,
        label=gettext_lazy("系统账号（可选）"),
        empty_label=gettext_lazy("无账号，由经办人代录走访"),
        help_text=gettext_lazy("只能选择本工会或上级工会的账号。"),
        error_messages={
            "invalid_choice": gettext_lazy("所选账号不属于本工会或其上级工会，不能关联。")
        },
    )

    class Meta:
        model = HelperPerson
        fields = ["name", "post", "workplace", "phone", "user"]
        widgets = {"phone": forms.TextInput(attrs={"inputmode": "tel"})}
        error_messages = {"name": {"required": gettext_lazy("请填写帮扶人姓名。")}}

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = followup.roster_logins(unit)  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("请填写帮扶人姓名。"))
        return name

    def clean_phone(self) -> str:
        return phone_value(self.cleaned_data.get("phone") or "")

    def _post_clean(self) -> None:
        # The service checks the login against the roster and names the holder.
        pass

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) for f in self.Meta.fields}


class RosterFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("按姓名查找")}),
    )
    show = forms.ChoiceField(
        label=gettext_lazy("范围"),
        required=False,
        choices=[
            ("", gettext_lazy("在册")),
            ("inactive", gettext_lazy("已移出名册")),
            ("all", gettext_lazy("全部")),
        ],
    )


class HelperEndForm(forms.Form):
    end_on = forms.DateField(label=gettext_lazy("结束日期"), widget=DateInput())
    reason = forms.CharField(
        label=gettext_lazy("结束原因"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如：工作调动、退休")}),
        error_messages={"required": gettext_lazy("请填写结束帮扶的原因。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["end_on"].initial = clock.today()


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one input; each is checked by its own content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultiplePhotoInput(attrs={"accept": "image/*", "capture": "environment"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > followup.MAX_PHOTOS:
            raise ValidationError(_("每次走访最多上传 %(n)d 张照片。") % {"n": followup.MAX_PHOTOS})
        errors = []
        for upload in files:
            try:
                followup.photo_type(upload)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return files


class VisitForm(forms.ModelForm):
    photos = PhotosField(label=gettext_lazy("现场照片"), required=False)

    class Meta:
        model = Visit
        fields = [
            "visited_on", "kind", *Visit.SIX_KNOWNS, "needs", "help_given", "follow_up_on",
        ]  # fmt: skip
        widgets = {
            "visited_on": DateInput(),
            "kind": forms.RadioSelect,
            "needs": forms.Textarea(attrs={"rows": 3}),
            "help_given": forms.Textarea(attrs={"rows": 3}),
            "follow_up_on": DateInput(),
        }

    on_behalf_of = forms.ModelChoiceField(
        queryset=HelperPerson.objects.none(),
        required=False,
        label=gettext_lazy("代帮扶人登记"),
        empty_label=gettext_lazy("不代录：本人走访"),
        help_text=gettext_lazy("帮扶人没有系统账号时，由经办人代为登记；两人的姓名都会保留。"),
        error_messages={
            "invalid_choice": gettext_lazy("所选人员不是该家庭当前的帮扶人，不能代其登记走访。")
        },
    )

    def __init__(
        self, *args: Any, household: Household | None = None, on_behalf: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if on_behalf and household is not None:
            self.fields["on_behalf_of"].queryset = HelperPerson.objects.filter(  # type: ignore[attr-defined]
                pairings__household=household, pairings__end_on__isnull=True
            ).order_by("name", "id")
        else:
            # A helper logs their own visits only.
            del self.fields["on_behalf_of"]
        today = clock.today()
        self.fields["visited_on"].initial = today
        self.fields["visited_on"].widget.attrs["max"] = today.isoformat()
        kind = self.fields["kind"]
        kind.choices = VisitKind.choices  # type: ignore[attr-defined]
        kind.initial = VisitKind.HOME
        kind.error_messages["required"] = gettext_lazy("请选择走访方式。")

    def _post_clean(self) -> None:
        # The service checks the visit; the model's own checks would run
        # without the household and the visitor, which the form does not hold.
        pass

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) for f in self.Meta.fields}

    def knowns_fields(self) -> list[Any]:
        return [self[f] for f in Visit.SIX_KNOWNS]


class OverdueFilterForm(forms.Form):
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        required=False,
        label=gettext_lazy("工会"),
        empty_label=gettext_lazy("我负责的全部工会"),
        error_messages={"invalid_choice": gettext_lazy("该工会不在您的管辖范围内。")},
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
