from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy

from .models import Unit


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=gettext_lazy("操作"), required=False, max_length=64)
    actor = forms.CharField(label=gettext_lazy("操作人"), required=False, max_length=150)
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, label=gettext_lazy("工会")
    )
    date_from = forms.DateField(
        label=gettext_lazy("起始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    object_id = forms.CharField(label=gettext_lazy("对象编号"), required=False, max_length=64)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext_lazy("截止日期不能早于起始日期。"))
        return data


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django's form only sets the attribute, without a validator: an
        # over-long name would reach django-axes, whose column holds 255
        # characters, and fail there on PostgreSQL.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))  # type: ignore[attr-defined]


class OtpCodeForm(forms.Form):
    """The six digits the authenticator app shows (or, on the code page, a
    recovery code)."""

    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def __init__(self, *args: Any, digits_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digits_only = digits_only
        if digits_only:
            self.fields["code"].widget.attrs["inputmode"] = "numeric"

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if self.digits_only and not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(gettext_lazy("请输入验证器应用显示的 6 位数字。"))
        return code
