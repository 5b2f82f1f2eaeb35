"""Aid programs (帮扶项目): what help exists, for whom, how much, when, paid
from which funds, and who must approve. All of it is data an admin edits."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.i18n import EnglishNamed, name_en_field
from accounts.models import Unit, UnitKind
from accounts.money import money_field
from cases.models import Cause, FileCategory, Tier
from funds.models import Fund


class Category(models.TextChoices):
    LIVING = "living", _("生活救助")
    MEDICAL = "medical", _("医疗救助")
    SCHOOL = "school", _("金秋助学")
    FESTIVAL = "festival", _("节日送温暖")
    MUTUAL_MEDICAL = "mutual_medical", _("医疗互助")
    STARTUP = "startup", _("创业扶持")
    LOAN = "loan", _("无息贷款")
    TRAINING = "training", _("就业培训")
    LEGAL = "legal", _("法律援助")
    OTHER = "other", _("其他")


class Kind(models.TextChoices):
    CASH = "cash", _("现金")
    GOODS = "goods", _("实物")
    CASH_GOODS = "cash_goods", _("现金加实物")
    LOAN = "loan", _("借款")
    SERVICE = "service", _("服务")


class CapRule(models.TextChoices):
    """The per-household yearly caps of 总工发〔2015〕20号."""

    NONE = "none", _("不设上限")
    DIBAO_ANNUAL = "dibao_annual", _("不超过当地低保年标准")
    OUT_OF_POCKET = "out_of_pocket", _("不超过个人自付医疗费用")
    TEN_MONTHS_PER_STUDENT = "ten_months", _("每名学生不超过十个月")
    FIXED = "fixed", _("固定金额上限")


class Program(EnglishNamed, models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("设立工会"), on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(_("项目名称"), max_length=100)
    name_en = name_en_field(200)
    category = models.CharField(_("项目类别"), max_length=20, choices=Category.choices)
    kind = models.CharField(_("帮扶方式"), max_length=10, choices=Kind.choices)
    eligible_tiers = models.ManyToManyField(
        Tier, verbose_name=_("适用困难类别"), blank=True, related_name="programs"
    )
    eligible_causes = models.ManyToManyField(
        Cause,
        verbose_name=_("适用致困原因"),
        blank=True,
        related_name="programs",
        help_text=_("不选表示不限致困原因。"),
    )
    required_categories = models.ManyToManyField(
        FileCategory,
        verbose_name=_("须属档案分类"),
        blank=True,
        related_name="programs",
        help_text=_("选择后，家庭须属于其中至少一个档案分类。"),
    )
    # The application window as month and day, so one program serves every
    # year (金秋助学: 8-1 to 9-30). Empty means all year.
    window_start = models.CharField(_("申请开始（月-日）"), max_length=5, blank=True)
    window_end = models.CharField(_("申请截止（月-日）"), max_length=5, blank=True)
    funds = models.ManyToManyField(
        Fund, verbose_name=_("可列支资金"), blank=True, related_name="programs"
    )
    cap_rule = models.CharField(
        _("年度上限规则"), max_length=16, choices=CapRule.choices, default=CapRule.NONE
    )
    cap_amount = money_field(_("固定上限金额"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("帮扶项目")
        verbose_name_plural = _("帮扶项目")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="program_unique_name"),
            models.CheckConstraint(
                condition=~Q(cap_rule="fixed")
                | Q(cap_amount__isnull=False, cap_amount__gt=Decimal("0")),
                name="program_fixed_cap_has_amount",
            ),
            models.CheckConstraint(
                condition=Q(window_start="", window_end="")
                | (~Q(window_start="") & ~Q(window_end="")),
                name="program_window_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class StandardAmount(models.Model):
    """补助标准: the amount a program proposes for a household of a tier."""

    program = models.ForeignKey(
        Program, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="amounts"
    )
    tier = models.ForeignKey(Tier, verbose_name=_("困难类别"), on_delete=models.PROTECT)
    amount = money_field(_("补助标准（元）"))

    class Meta:
        verbose_name = _("补助标准")
        verbose_name_plural = _("补助标准")
        constraints = [
            models.UniqueConstraint(fields=["program", "tier"], name="standard_amount_unique"),
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="standard_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.tier}: {self.amount}"


class ApprovalThreshold(models.Model):
    """Above this amount, the chair of the parent unit must approve as well."""

    program = models.ForeignKey(
        Program, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="thresholds"
    )
    unit_kind = models.CharField(_("审批单位层级"), max_length=16, choices=UnitKind.choices)
    amount = money_field(_("本级审批限额（元）"))

    class Meta:
        verbose_name = _("审批限额")
        verbose_name_plural = _("审批限额")
        constraints = [
            models.UniqueConstraint(fields=["program", "unit_kind"], name="threshold_unique_level"),
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="threshold_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.get_unit_kind_display()} ≤ {self.amount}"
