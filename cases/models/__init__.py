"""Models of the household file and its life cycle."""

from .household import (
    CLOSED_STATUSES,
    Attachment,
    Cause,
    FileCategory,
    Household,
    HouseholdStatus,
    Member,
    Tier,
    _attachment_path,
    money,
    private_storage,
)
from .kin import KinRegistration, KinRelative
from .workflow import (
    Assessment,
    CaseRules,
    Discussion,
    ExitKind,
    FileNumberCounter,
    Helper,
    HelperPerson,
    HelperRole,
    Holiday,
    IntakeNotice,
    LocalStandard,
    MonthlyIncome,
    NonCashHelp,
    NonCashKind,
    NoticeEntry,
    Objection,
    ObjectionOutcome,
    ReviewItem,
    ReviewOutcome,
    ReviewRound,
    StatusChange,
    Visit,
    VisitKind,
    VisitPhoto,
)

__all__ = [
    "CLOSED_STATUSES", "Assessment", "Attachment", "CaseRules", "Cause", "Discussion",
    "ExitKind", "FileCategory", "FileNumberCounter", "Helper", "HelperPerson", "HelperRole",
    "Holiday", "Household",
    "HouseholdStatus", "IntakeNotice", "KinRegistration", "KinRelative", "LocalStandard",
    "Member", "MonthlyIncome",
    "NonCashHelp", "NonCashKind", "NoticeEntry", "Objection", "ObjectionOutcome",
    "ReviewItem", "ReviewOutcome", "ReviewRound", "StatusChange", "Tier", "Visit",
    "VisitKind", "VisitPhoto", "_attachment_path", "money", "private_storage",
]  # fmt: skip
