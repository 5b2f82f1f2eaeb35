"""Intake and life-cycle models: 一进二看三算四议五评六公示七确认, helpers,
visits, reviews, monthly incomes, exits and non-cash help."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.append_only import append_only
from accounts.chain import Chained
from accounts.models import Unit
from accounts.money import money_field

from .. import meanstest
from .household import Household, Tier, money, private_storage


class CaseRules(models.Model):
    """The editable rules of intake and follow-up. One row (pk=1)."""

    deep_multiple = models.DecimalField(
        _("特困上限（标准倍数）"), max_digits=4, decimal_places=2, default=Decimal("1")
    )
    relative_multiple = models.DecimalField(
        _("困难上限（标准倍数）"), max_digits=4, decimal_places=2, default=Decimal("2")
    )
    accident_share = models.DecimalField(
        _("意外致困支出占年收入比例"), max_digits=4, decimal_places=2, default=Decimal("0.80")
    )
    notice_working_days = models.PositiveSmallIntegerField(_("公示期（工作日）"), default=5)
    visit_interval_months = models.PositiveSmallIntegerField(_("走访周期（月）"), default=3)
    review_sample_percent = models.PositiveSmallIntegerField(_("年审实地复核比例（%）"), default=30)
    exit_consecutive_months = models.PositiveSmallIntegerField(_("脱困连续月数"), default=6)
    retention_years = models.PositiveSmallIntegerField(_("档案保存年限"), default=10)
    helpers_per_household = models.PositiveSmallIntegerField(_("每户帮扶人数"), default=3)
    # Some unions add a leader as 第一帮扶人 on top of the usual helpers.
    first_helper_extra = models.BooleanField(_("第一帮扶人另计"), default=False)

    class Meta:
        verbose_name = _("帮扶规则")
        verbose_name_plural = _("帮扶规则")

    def __str__(self) -> str:
        return str(_("帮扶规则"))

    @classmethod
    def current(cls) -> "CaseRules":
        """The saved rules, or the defaults until an admin saves them. A read
        never writes: pages and services cost the same before and after."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class LocalStandard(models.Model):
    """低保标准: yuan per person per month for a region (a unit and the units
    below it), from a date on. Several may exist over time."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("适用地区（工会）"), on_delete=models.PROTECT, related_name="standards"
    )
    amount = models.DecimalField(_("低保标准（元/人·月）"), max_digits=10, decimal_places=2)
    effective_from = models.DateField(_("执行日期"))
    note = models.CharField(_("文件依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("当地低保标准")
        verbose_name_plural = _("当地低保标准")
        ordering = ["unit__path", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "effective_from"], name="standard_unique_date"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="standard_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.amount} ({self.effective_from})"


class Holiday(models.Model):
    """A listed day off (or a make-up working day, 调休上班) for notice periods."""

    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=30)
    is_workday = models.BooleanField(_("调休上班"), default=False)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ComplaintDesk(models.Model):
    """Where a union takes complaints and objections (投诉受理): the phone and
    address every public notice of the union (and of the unions below it
    without their own desk) prints, and how many working days a complaint
    may take. A union without a row uses its nearest ancestor's, else the
    defaults."""

    DEFAULT_WORKING_DAYS = 15

    unit = models.OneToOneField(
        Unit, verbose_name=_("工会"), on_delete=models.PROTECT, related_name="complaint_desk"
    )
    phone = models.CharField(_("投诉电话"), max_length=40, blank=True)
    address = models.CharField(_("来信来访地址"), max_length=200, blank=True)
    working_days = models.PositiveSmallIntegerField(
        _("投诉办理时限（工作日）"), default=DEFAULT_WORKING_DAYS
    )

    class Meta:
        verbose_name = _("投诉受理设置")
        verbose_name_plural = _("投诉受理设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(working_days__gte=1) & Q(working_days__lte=60),
                name="complaint_desk_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.phone or self.address}"


class Assessment(models.Model):
    """三算: one dated means test, kept with who made it."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="assessments"
    )
    assessed_on = models.DateField(_("核算日期"))
    income_wages = money(_("工资性收入"))
    income_business = money(_("经营性收入"))
    income_property = money(_("财产性收入"))
    income_transfer = money(_("转移性收入"))
    income_other = money(_("其他收入"))
    expense_medical = money(_("医疗刚性支出"))
    expense_disability = money(_("残疾刚性支出"))
    expense_education = money(_("非义务教育支出"))
    expense_housing = money(_("住房刚性支出"))
    household_size = models.PositiveSmallIntegerField(_("家庭人口"))
    accident_cost = money(_("意外事故支出"))
    exclusions = models.JSONField(_("排除情形"), default=list, blank=True)
    per_capita = money_field(_("人均月收入"))
    standard = models.DecimalField(
        _("低保标准"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    ratio = models.DecimalField(_("倍数"), max_digits=8, decimal_places=2, null=True, blank=True)
    suggested_band = models.CharField(_("建议类别"), max_length=16, blank=True)
    suggested_tier = models.ForeignKey(
        Tier,
        verbose_name=_("建议困难类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    steps = models.JSONField(_("计算过程"), default=list)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核算人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("家庭经济状况核算")
        verbose_name_plural = _("家庭经济状况核算")
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.household} {self.assessed_on}"

    @property
    def explained_steps(self) -> list[str]:
        """The means test's steps in the reader's language."""
        return meanstest.explain(self.steps)

    @property
    def explained_warnings(self) -> list[str]:
        return meanstest.exclusion_warnings(self.exclusions) or list(self.warnings)


class VisitKind(models.TextChoices):
    HOME = "home", _("入户走访")
    PHONE = "phone", _("电话走访")
    HOSPITAL = "hospital", _("医院探望")


class Visit(models.Model):
    """A visit (一进二看 at intake, then regular follow-up): who, when, what was
    seen, the six knowns (六知道), needs found and help given."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="visits"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    # A visit made by a helper without a login, recorded by `visitor` for
    # them: both names are kept.
    on_behalf_of = models.ForeignKey(
        "HelperPerson",
        verbose_name=_("代录：实际走访的帮扶人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_on = models.DateField(_("走访日期"))
    kind = models.CharField(
        _("走访方式"), max_length=16, choices=VisitKind.choices, default=VisitKind.HOME
    )
    is_intake = models.BooleanField(_("建档入户核查"), default=False)
    # 二看: what the visitor saw
    seen_housing = models.TextField(_("住房情况"), blank=True)
    seen_appliances = models.TextField(_("家电家具"), blank=True)
    seen_health = models.TextField(_("健康状况"), blank=True)
    seen_schooling = models.TextField(_("子女就学"), blank=True)
    # 六知道
    knows_name = models.BooleanField(_("知道姓名"), default=False)
    knows_address = models.BooleanField(_("知道住址"), default=False)
    knows_phone = models.BooleanField(_("知道电话"), default=False)
    knows_spouse = models.BooleanField(_("知道配偶情况"), default=False)
    knows_schooling = models.BooleanField(_("知道子女就学"), default=False)
    knows_events = models.BooleanField(_("知道家庭大事"), default=False)
    needs = models.TextField(_("发现的需求"), blank=True)
    help_given = models.TextField(_("已提供的帮助"), blank=True)
    follow_up_on = models.DateField(_("下次跟进日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    # Chosen by the phone (or another tool) when the visit is first written
    # down: a draft sent again after a lost answer, or from a second tab,
    # finds the visit it already made instead of making another.
    client_key = models.UUIDField(_("客户端标识"), null=True, blank=True)
    # Not stored: set by visit_log when a client key finds the visit it made
    # before, so a caller can tell a replay from a new visit.
    replayed = False

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["household", "-visited_on"], name="visit_household_date_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["visitor", "client_key"], name="visit_client_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_on}"

    SIX_KNOWNS = (
        "knows_name",
        "knows_address",
        "knows_phone",
        "knows_spouse",
        "knows_schooling",
        "knows_events",
    )


class VisitPhoto(models.Model):
    visit = models.ForeignKey(
        Visit, verbose_name=_("走访"), on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(_("照片"), upload_to="visits/%Y/%m/", storage=private_storage)
    content_type = models.CharField(_("文件类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")

    def __str__(self) -> str:
        return f"{self.visit} #{self.pk}"


class Discussion(models.Model):
    """四议: the union committee's discussion of a case."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="discussions"
    )
    held_on = models.DateField(_("会议日期"))
    attendees = models.TextField(_("参会人员"))
    minutes = models.TextField(_("会议纪要"))
    file = models.FileField(
        _("会议记录附件"), upload_to="discussions/%Y/", storage=private_storage, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("民主评议")
        verbose_name_plural = _("民主评议")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.household} {self.held_on}"


class StatusChange(Chained):
    """One step of a file's life: who, when, from, to and why. Chained
    (accounts/chain.py)."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    reason = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["at", "id"]
        triggers = [append_only("status_change_append_only")]

    def __str__(self) -> str:
        return f"{self.household}: {self.from_status} → {self.to_status}"


class IntakeNotice(models.Model):
    """六公示: a list of proposed files posted for a period of working days."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("公示单位"), on_delete=models.PROTECT, related_name="intake_notices"
    )
    title = models.CharField(_("标题"), max_length=100)
    starts_on = models.DateField(_("公示开始日期"))
    working_days = models.PositiveSmallIntegerField(_("公示期（工作日）"))
    ends_on = models.DateField(_("公示截止日期"))
    posted_at = models.CharField(_("张贴地点"), max_length=200)
    proof = models.FileField(
        _("张贴照片"), upload_to="notices/%Y/", storage=private_storage, blank=True
    )
    households: models.ManyToManyField = models.ManyToManyField(
        Household, through="NoticeEntry", related_name="intake_notices", verbose_name=_("公示家庭")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("建档公示")
        verbose_name_plural = _("建档公示")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title


class NoticeEntry(models.Model):
    notice = models.ForeignKey(IntakeNotice, on_delete=models.CASCADE, related_name="entries")
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="notice_entries"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "household"], name="notice_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.notice} · {self.household}"


class ObjectionOutcome(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class Objection(models.Model):
    """An objection raised during a public notice; it blocks confirmation
    until resolved."""

    notice = models.ForeignKey(
        IntakeNotice, verbose_name=_("公示"), on_delete=models.PROTECT, related_name="objections"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="objections"
    )
    received_on = models.DateField(_("收到日期"))
    raised_by = models.CharField(_("异议人"), max_length=50, blank=True, help_text=_("可匿名"))
    content = models.TextField(_("异议内容"))
    outcome = models.CharField(
        _("处理结果"),
        max_length=16,
        choices=ObjectionOutcome.choices,
        default=ObjectionOutcome.OPEN,
    )
    resolution = models.TextField(_("处理说明"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.household} {self.get_outcome_display()}"


class FileNumberCounter(models.Model):
    """The last file number issued per unit and year; its row is locked while a
    number is taken, so numbers are unique and gap-free."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="file_number_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}: {self.last}"


class HelperRole(models.TextChoices):
    UNIT_LEADER = "unit_leader", _("单位领导")
    UNION_CADRE = "union_cadre", _("工会干部")
    GRASSROOTS_LEADER = "grassroots_leader", _("基层负责人")


class HelperPerson(models.Model):
    """A union's helper roster (帮扶人名册): unit leaders, union cadres and
    grassroots leaders who pair with households. Most have no login; a
    caseworker records their visits for them."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="helper_roster"
    )
    name = models.CharField(_("姓名"), max_length=50)
    post = models.CharField(_("职务"), max_length=50, blank=True)
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="helper_entries",
    )
    is_active = models.BooleanField(_("在册"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("帮扶人名册")
        verbose_name_plural = _("帮扶人名册")
        ordering = ["unit__path", "name", "id"]
        indexes = [models.Index(fields=["unit", "name"], name="helper_person_unit_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "user"],
                condition=Q(user__isnull=False),
                name="helper_person_one_login_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Helper(models.Model):
    """结对帮扶人: a roster person paired with a filed household (how many is a
    rule in CaseRules), one of them the first."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="helpers"
    )
    person = models.ForeignKey(
        HelperPerson,
        verbose_name=_("帮扶人"),
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    # The person's login, when they have one: "my households" reads it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="helping",
    )
    role = models.CharField(_("帮扶人身份"), max_length=24, choices=HelperRole.choices)
    is_first = models.BooleanField(_("第一帮扶人"), default=False)
    start_on = models.DateField(_("开始日期"))
    end_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.TextField(_("结束原因"), blank=True)
    last_visited_on = models.DateField(_("最近走访"), null=True, blank=True)

    class Meta:
        verbose_name = _("结对帮扶人")
        verbose_name_plural = _("结对帮扶人")
        ordering = ["-is_first", "start_on", "id"]
        indexes = [
            # 我的帮扶户: one person's active pairings, the longest-waiting first.
            models.Index(
                "user",
                Coalesce("last_visited_on", "start_on"),
                name="helper_user_due_idx",
                condition=Q(end_on__isnull=True),
            ),
            # The overdue list asks "active, and last visit (or start) before
            # a cutoff", oldest first: this index answers it in order.
            models.Index(
                Coalesce("last_visited_on", "start_on"),
                name="helper_active_due_idx",
                condition=Q(end_on__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(is_first=True, end_on__isnull=True),
                name="helper_one_first",
            ),
            models.UniqueConstraint(
                fields=["household", "person"],
                condition=Q(end_on__isnull=True),
                name="helper_once_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.household}"


class ReviewRound(models.Model):
    """年审: a yearly review of every filed household of a unit, with a random
    sample re-checked on the spot. The seed is kept so the sample can be drawn
    again and shown to be the same."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("工会"), on_delete=models.PROTECT, related_name="review_rounds"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    seed = models.BigIntegerField(_("抽样随机种子"))
    sample_percent = models.PositiveSmallIntegerField(_("抽样比例（%）"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("发起时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("年审")
        verbose_name_plural = _("年审")
        ordering = ["-year", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="review_round_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}"


class ReviewOutcome(models.TextChoices):
    PENDING = "pending", _("待审核")
    UNCHANGED = "unchanged", _("情况无变化")
    UPDATED = "updated", _("情况有变化，已更新档案")
    EXIT = "exit", _("建议退出")


class ReviewItem(models.Model):
    round = models.ForeignKey(
        ReviewRound, verbose_name=_("年审"), on_delete=models.CASCADE, related_name="items"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="review_items"
    )
    sampled = models.BooleanField(_("实地复核"), default=False)
    outcome = models.CharField(
        _("审核结果"), max_length=16, choices=ReviewOutcome.choices, default=ReviewOutcome.PENDING
    )
    notes = models.TextField(_("审核说明"), blank=True)
    checked_on = models.DateField(_("审核日期"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("年审记录")
        verbose_name_plural = _("年审记录")
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="review_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.household}"


class MonthlyIncome(models.Model):
    """Per-capita income for one month, compared with the standard then in force."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="monthly_incomes"
    )
    month = models.DateField(_("月份"))  # the first day of the month
    household_income = money(_("家庭月收入"))
    household_size = models.PositiveSmallIntegerField(_("家庭人口"))
    per_capita = money_field(_("人均月收入"))
    standard = models.DecimalField(
        _("低保标准"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    above_standard = models.BooleanField(_("高于标准"))
    # A chair dismissed the exit flag raised by the run ending at this month:
    # the run counts again only from the month after it.
    run_dismissed = models.BooleanField(_("脱困提示已否决"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("月收入记录")
        verbose_name_plural = _("月收入记录")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["household", "month"], name="monthly_income_unique")
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.month:%Y-%m}"


class ExitKind(models.TextChoices):
    RECOVERED = "recovered", _("脱困")
    STABILIZED = "stabilized", _("解困（政府兜底保障）")
    MOVED = "moved", _("迁出")
    DIED = "died", _("死亡")
    VOLUNTARY = "voluntary", _("本人申请退出")
    UNQUALIFIED = "unqualified", _("不再符合条件")


class NonCashKind(models.TextChoices):
    JOB = "job", _("就业安置（帮扶岗位）")
    TRAINING = "training", _("技能培训")
    POLICY = "policy", _("政策转介")
    LEGAL = "legal", _("法律援助")
    HOUSING = "housing", _("住房保障（廉租房/公租房）")


class NonCashHelp(models.Model):
    """Help that is not money: counted and recorded like aid, with no amount."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="noncash_help"
    )
    kind = models.CharField(_("帮扶类型"), max_length=16, choices=NonCashKind.choices)
    given_on = models.DateField(_("日期"))
    description = models.TextField(_("内容"))
    outcome = models.TextField(_("结果"), blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("非现金帮扶")
        verbose_name_plural = _("非现金帮扶")
        ordering = ["-given_on", "-id"]

    def __str__(self) -> str:
        return f"{self.household} {self.get_kind_display()}"
