import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from accounts.i18n import EnglishNamed, name_en_field
from accounts.models import Unit
from accounts.money import ZERO, money_field

from .. import choices as c


def money(verbose_name: str | Any) -> models.DecimalField:
    """An income or expense in yuan: 0.00 until it is filled in."""
    return money_field(verbose_name, default=ZERO)


class Tier(EnglishNamed, models.Model):
    """困难类别: an admin-edited list, each mapped to a national category."""

    class National(models.TextChoices):
        DEEP = "deep", _("深度困难")
        RELATIVE = "relative", _("相对困难")
        ACCIDENT = "accident", _("意外致困")
        EDGE = "edge", _("边缘")

    name = models.CharField(_("名称"), max_length=30, unique=True)
    name_en = name_en_field()
    national_category = models.CharField(_("对应全国类别"), max_length=16, choices=National.choices)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("困难类别")
        verbose_name_plural = _("困难类别")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name


class Cause(EnglishNamed, models.Model):
    """致困原因: an admin-edited list."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    name_en = name_en_field()
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("致困原因")
        verbose_name_plural = _("致困原因")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name


class FileCategory(EnglishNamed, models.Model):
    """档案分类: admin-defined categories a household may carry beside its
    tier (大病职工, 帮扶助学, 单亲家庭, 劳模, 农民工, …), any number at once."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    name_en = name_en_field()
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("档案分类")
        verbose_name_plural = _("档案分类")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name


class HouseholdStatus(models.TextChoices):
    """The intake steps (一进二看三算四议五评六公示七确认) and what follows."""

    DRAFT = "draft", _("待入户")
    VISITED = "visited", _("已入户")
    ASSESSED = "assessed", _("已核算")
    DISCUSSED = "discussed", _("已评议")
    EVALUATED = "evaluated", _("已评定")
    NOTICED = "noticed", _("公示中")
    FILED = "filed", _("已建档")
    REJECTED = "rejected", _("已驳回")
    EXITED = "exited", _("已退出")


# A file in any other status blocks a second file for the same ID number.
CLOSED_STATUSES = (HouseholdStatus.REJECTED, HouseholdStatus.EXITED)


class Household(models.Model):
    """困难职工家庭档案: one per household, opened for its head (户主)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="households"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.DRAFT
    )
    # Unique per union: numbers issued here carry the union's code; numbers
    # brought in from a union's old register are kept exactly as given.
    file_number = models.CharField(  # noqa: DJ001 (NULL until filed; unique when set)
        _("档案编号"), max_length=40, null=True, blank=True
    )

    # Head of household
    name = models.CharField(_("户主姓名"), max_length=50, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=c.Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(
        _("民族"), max_length=10, choices=c.ETHNICITY_CHOICES, default="汉族"
    )
    political_status = models.CharField(
        _("政治面貌"), max_length=16, choices=c.PoliticalStatus.choices, default="masses"
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("家庭住址"), max_length=200)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    employer_type = models.CharField(
        _("单位性质"), max_length=16, choices=c.EmployerType.choices, blank=True
    )
    employment_status = models.CharField(
        _("就业状态"), max_length=16, choices=c.EmploymentStatus.choices
    )
    health_status = models.CharField(
        _("健康状况"), max_length=16, choices=c.HealthStatus.choices, default="healthy"
    )
    disability_type = models.CharField(
        _("残疾类别"), max_length=16, choices=c.DisabilityType.choices, blank=True
    )
    disability_grade = models.CharField(
        _("残疾等级"), max_length=2, choices=c.DisabilityGrade.choices, blank=True
    )
    model_worker_level = models.CharField(
        _("劳模级别"), max_length=16, choices=c.ModelWorkerLevel.choices, blank=True
    )
    housing_type = models.CharField(_("住房类型"), max_length=16, choices=c.HousingType.choices)
    housing_area = models.DecimalField(
        _("住房面积（平方米）"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    hukou_type = models.CharField(_("户口性质"), max_length=8, choices=c.HukouType.choices)
    marital_status = models.CharField(_("婚姻状况"), max_length=16, choices=c.MaritalStatus.choices)
    single_parent = models.BooleanField(_("单亲家庭"), default=False)
    medical_insurance = models.CharField(
        _("医疗保险"), max_length=16, choices=c.MedicalInsurance.choices, default="employee"
    )
    zero_employment = models.BooleanField(_("零就业家庭"), default=False)

    # Money over the last 12 months, in yuan
    income_wages = money(_("工资性收入"))
    income_business = money(_("经营性收入"))
    income_property = money(_("财产性收入"))
    income_transfer = money(_("转移性收入"))
    income_other = money(_("其他收入"))
    expense_medical = money(_("医疗刚性支出"))
    expense_disability = money(_("残疾刚性支出"))
    expense_education = money(_("非义务教育支出"))
    expense_housing = money(_("住房刚性支出"))
    household_size = models.PositiveSmallIntegerField(_("家庭人口"), default=1)
    per_capita_monthly_income = money_field(_("人均月收入"), default=ZERO, editable=False)

    tier = models.ForeignKey(
        Tier,
        verbose_name=_("困难类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
    )
    main_cause = models.ForeignKey(
        Cause,
        verbose_name=_("主要致困原因"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="main_households",
    )
    secondary_causes = models.ManyToManyField(
        Cause, verbose_name=_("次要致困原因"), blank=True, related_name="secondary_households"
    )

    categories = models.ManyToManyField(
        FileCategory, verbose_name=_("档案分类"), blank=True, related_name="households"
    )

    bank_name = models.CharField(_("开户银行"), max_length=50, blank=True)
    bank_branch = models.CharField(_("开户网点"), max_length=100, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=32, blank=True)
    note = models.TextField(_("备注"), blank=True)

    # Who put the case forward; they may not evaluate or confirm it themselves.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_on = models.DateField(_("建档日期"), null=True, blank=True)
    last_visited_on = models.DateField(_("最近走访日期"), null=True, blank=True)
    # Set when income has stayed above the standard long enough (脱困 check).
    exit_flagged_on = models.DateField(_("脱困提示日期"), null=True, blank=True)
    exit_kind = models.CharField(_("退出类型"), max_length=16, blank=True)
    exit_reason = models.TextField(_("退出原因"), blank=True)
    exited_on = models.DateField(_("退出日期"), null=True, blank=True)
    retention_until = models.DateField(_("档案保存至"), null=True, blank=True)

    # 建档迁移: set when the file came in from a union's existing register
    # (filed under the rules of its time, not through the intake steps).
    migrated_from = models.CharField(_("迁移来源"), max_length=200, blank=True)
    migrated_at = models.DateTimeField(_("迁移时间"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("建档人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("困难职工家庭档案")
        verbose_name_plural = _("困难职工家庭档案")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="household_unit_status_idx"),
            # A union's files newest first: a scoped list's page (and any
            # deep one, by keyset) read in order off the index.
            models.Index(fields=["unit", "-id"], name="household_unit_id_idx"),
            # A file number typed into the search box (with an ID number or
            # phone prefix: each arm of the OR needs an index of its own).
            models.Index(fields=["file_number"], name="household_file_number_idx"),
            models.Index(fields=["tier", "status"], name="household_tier_idx"),
            models.Index(fields=["main_cause"], name="household_cause_idx"),
        ]
        constraints = [
            # One active file per person across the whole system.
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~Q(status__in=["rejected", "exited"]),
                name="household_one_active_file_per_id",
            ),
            models.CheckConstraint(
                condition=Q(household_size__gte=1), name="household_size_positive"
            ),
            models.UniqueConstraint(
                fields=["unit", "file_number"],
                condition=Q(file_number__isnull=False),
                name="household_file_number_unique_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def annual_income(self) -> Decimal:
        return (
            self.income_wages
            + self.income_business
            + self.income_property
            + self.income_transfer
            + self.income_other
        )

    @property
    def rigid_expenses(self) -> Decimal:
        return (
            self.expense_medical
            + self.expense_disability
            + self.expense_education
            + self.expense_housing
        )


class Member(models.Model):
    """家庭成员 other than the head."""

    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与户主关系"), max_length=16, choices=c.Relation.choices)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=c.Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    health_status = models.CharField(
        _("健康状况"), max_length=16, choices=c.HealthStatus.choices, default="healthy"
    )
    annual_income = money(_("年收入"))
    occupation = models.CharField(_("职业"), max_length=50, blank=True)
    school = models.CharField(_("就读学校"), max_length=100, blank=True)
    school_stage = models.CharField(
        _("学段"), max_length=16, choices=c.SchoolStage.choices, blank=True
    )
    grade = models.CharField(_("年级"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class _PrivateStorage(LazyObject):
    """The `private` storage of settings.STORAGES, looked up when first used
    and again after that setting changes (as a test may change it)."""

    def _setup(self) -> None:
        self._wrapped = storages["private"]


_private = _PrivateStorage()


def _private_storage_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        _private._wrapped = empty  # type: ignore[assignment]


setting_changed.connect(_private_storage_changed)


def private_storage() -> Storage:
    """Where attachments, photos, waiting uploads and job results live: the
    `private` storage (a folder every server shares, or an S3 bucket), with
    no public URL, so a file is read only through a view that checks rights.

    A callable, so migrations record a reference rather than a location."""
    return _private  # type: ignore[return-value]


def _attachment_path(instance: "Attachment", filename: str) -> str:
    # Never reuse the uploaded name on disk: it may be hostile or reveal data.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"households/{instance.household_id}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("材料类型"), max_length=16, choices=c.AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to=_attachment_path, storage=private_storage)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # The day a consent (授权书) was signed: a household's data leaves for a
    # civil-affairs check only on a consent with this date.
    signed_on = models.DateField(_("签署日期"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"
