"""Forms of the 回避登记 page. The numbers are checked again by the services
(cases.services.kin), which are what an API or a crafted POST reaches too."""

from django import forms
from django.utils.translation import gettext_lazy

from .. import idnumber
from ..choices import Relation
from .fields import phone_value

_NUMBER_ATTRS = {"autocomplete": "off", "maxlength": 18, "inputmode": "text"}


class KinForm(forms.Form):
    id_number = forms.CharField(
        label=gettext_lazy("本人身份证号"),
        max_length=30,
        widget=forms.TextInput(attrs=_NUMBER_ATTRS),
        help_text=gettext_lazy(
            "只保存加密摘要和遮蔽后的号码，任何人（包括您本人）都无法再看到完整号码。"
        ),
        error_messages={"required": gettext_lazy("请填写本人身份证号。")},
    )
    phone = forms.CharField(label=gettext_lazy("本人联系电话"), max_length=30, required=False)
    address = forms.CharField(label=gettext_lazy("家庭住址"), max_length=200, required=False)

    def clean_id_number(self) -> str:
        return idnumber.parse(self.cleaned_data["id_number"]).number

    def clean_phone(self) -> str:
        return phone_value(self.cleaned_data.get("phone") or "")


class RelativeForm(forms.Form):
    relation = forms.ChoiceField(
        label=gettext_lazy("关系"),
        choices=[("", "—"), *Relation.choices],
        error_messages={"required": gettext_lazy("请选择与您的关系。")},
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写亲属姓名。")},
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"),
        max_length=30,
        widget=forms.TextInput(attrs=_NUMBER_ATTRS),
        error_messages={"required": gettext_lazy("请填写亲属的身份证号。")},
    )

    def clean_id_number(self) -> str:
        return idnumber.parse(self.cleaned_data["id_number"]).number
