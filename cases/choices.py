"""Fixed vocabularies of the household file, as the official forms list them.

Tiers and causes differ between unions and live in the database instead.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class PoliticalStatus(models.TextChoices):
    CPC = "cpc", _("中共党员")
    CPC_PROBATION = "cpc_probation", _("中共预备党员")
    CYL = "cyl", _("共青团员")
    DEMOCRATIC = "democratic", _("民主党派")
    MASSES = "masses", _("群众")


class EmployerType(models.TextChoices):
    STATE = "state", _("国有企业")
    COLLECTIVE = "collective", _("集体企业")
    PRIVATE = "private", _("民营企业")
    FOREIGN = "foreign", _("外资企业")
    PUBLIC = "public", _("机关事业单位")
    SELF_EMPLOYED = "self", _("个体工商户")
    OTHER = "other", _("其他")


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", _("在岗")
    LAID_OFF = "laid_off", _("下岗")
    UNEMPLOYED = "unemployed", _("失业")
    RETIRED = "retired", _("退休")
    FLEXIBLE = "flexible", _("灵活就业")
    MIGRANT = "migrant", _("农民工")


class HealthStatus(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    FAIR = "fair", _("一般")
    CHRONIC = "chronic", _("慢性病")
    SERIOUS = "serious", _("重大疾病")
    DISABLED = "disabled", _("残疾")


class DisabilityType(models.TextChoices):
    NONE = "", _("无")
    VISUAL = "visual", _("视力残疾")
    HEARING = "hearing", _("听力残疾")
    SPEECH = "speech", _("言语残疾")
    PHYSICAL = "physical", _("肢体残疾")
    INTELLECTUAL = "intellectual", _("智力残疾")
    MENTAL = "mental", _("精神残疾")
    MULTIPLE = "multiple", _("多重残疾")


class DisabilityGrade(models.TextChoices):
    NONE = "", _("无")
    G1 = "1", _("一级")
    G2 = "2", _("二级")
    G3 = "3", _("三级")
    G4 = "4", _("四级")


class ModelWorkerLevel(models.TextChoices):
    NONE = "", _("非劳模")
    NATIONAL = "national", _("全国劳模")
    PROVINCIAL = "provincial", _("省部级劳模")
    CITY = "city", _("市级劳模")
    OTHER = "other", _("其他")


class HousingType(models.TextChoices):
    OWNED = "owned", _("自有住房")
    PUBLIC_RENT = "public_rent", _("租住公房")
    PRIVATE_RENT = "private_rent", _("租住私房")
    LOW_RENT = "low_rent", _("廉租房/公租房")
    BORROWED = "borrowed", _("借住")
    NONE = "none", _("无房")


class HukouType(models.TextChoices):
    URBAN = "urban", _("城镇户口")
    RURAL = "rural", _("农村户口")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("未婚")
    MARRIED = "married", _("已婚")
    DIVORCED = "divorced", _("离异")
    WIDOWED = "widowed", _("丧偶")


class MedicalInsurance(models.TextChoices):
    EMPLOYEE = "employee", _("职工医保")
    RESIDENT = "resident", _("城乡居民医保")
    OTHER = "other", _("其他")
    NONE = "none", _("未参保")


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    PARENT_IN_LAW = "parent_in_law", _("岳父母/公婆")
    SIBLING = "sibling", _("兄弟姐妹")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    OTHER = "other", _("其他")


class SchoolStage(models.TextChoices):
    NONE = "", _("不在学")
    PRESCHOOL = "preschool", _("学前")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")
    COLLEGE = "college", _("大专")
    UNDERGRADUATE = "undergraduate", _("本科")
    GRADUATE = "graduate", _("研究生")


class AttachmentKind(models.TextChoices):
    ID_CARD = "id_card", _("身份证")
    HUKOU = "hukou", _("户口簿")
    WAGES = "wages", _("工资收入证明")
    DIBAO = "dibao", _("低保证")
    MEDICAL = "medical", _("诊断书及医疗票据")
    DISABILITY = "disability", _("残疾证")
    ENROLMENT = "enrolment", _("入学证明")
    CONSENT = "consent", _("家庭经济状况核对授权书")
    OTHER = "other", _("其他")


ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族",
    "基诺族",
]  # fmt: skip
# The stored value is the Chinese name (as on an ID card and in registers);
# the label follows the reader's language.
ETHNICITY_LABELS = {
    "汉族": _("汉族"),
    "蒙古族": _("蒙古族"),
    "回族": _("回族"),
    "藏族": _("藏族"),
    "维吾尔族": _("维吾尔族"),
    "苗族": _("苗族"),
    "彝族": _("彝族"),
    "壮族": _("壮族"),
    "布依族": _("布依族"),
    "朝鲜族": _("朝鲜族"),
    "满族": _("满族"),
    "侗族": _("侗族"),
    "瑶族": _("瑶族"),
    "白族": _("白族"),
    "土家族": _("土家族"),
    "哈尼族": _("哈尼族"),
    "哈萨克族": _("哈萨克族"),
    "傣族": _("傣族"),
    "黎族": _("黎族"),
    "傈僳族": _("傈僳族"),
    "佤族": _("佤族"),
    "畲族": _("畲族"),
    "高山族": _("高山族"),
    "拉祜族": _("拉祜族"),
    "水族": _("水族"),
    "东乡族": _("东乡族"),
    "纳西族": _("纳西族"),
    "景颇族": _("景颇族"),
    "柯尔克孜族": _("柯尔克孜族"),
    "土族": _("土族"),
    "达斡尔族": _("达斡尔族"),
    "仫佬族": _("仫佬族"),
    "羌族": _("羌族"),
    "布朗族": _("布朗族"),
    "撒拉族": _("撒拉族"),
    "毛南族": _("毛南族"),
    "仡佬族": _("仡佬族"),
    "锡伯族": _("锡伯族"),
    "阿昌族": _("阿昌族"),
    "普米族": _("普米族"),
    "塔吉克族": _("塔吉克族"),
    "怒族": _("怒族"),
    "乌孜别克族": _("乌孜别克族"),
    "俄罗斯族": _("俄罗斯族"),
    "鄂温克族": _("鄂温克族"),
    "德昂族": _("德昂族"),
    "保安族": _("保安族"),
    "裕固族": _("裕固族"),
    "京族": _("京族"),
    "塔塔尔族": _("塔塔尔族"),
    "独龙族": _("独龙族"),
    "鄂伦春族": _("鄂伦春族"),
    "赫哲族": _("赫哲族"),
    "门巴族": _("门巴族"),
    "珞巴族": _("珞巴族"),
    "基诺族": _("基诺族"),
}
ETHNICITY_CHOICES = [(e, ETHNICITY_LABELS[e]) for e in ETHNICITIES]
