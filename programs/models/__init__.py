"""Programs and everything that flows from them: applications, approvals,
batches, payments, loans and mutual aid."""

from .aid import (
    AidPayment,
    Application,
    ApplicationStatus,
    ApplicationStatusChange,
    Batch,
    BatchStatus,
    Decision,
    DecisionLevel,
    PaymentBatch,
    PaymentMethod,
)
from .config import (
    ApprovalThreshold,
    CapRule,
    Category,
    Kind,
    Program,
    StandardAmount,
)
from .conflicts import REFUSED_STEPS, ConflictFlag, ConflictStep
from .loans import Installment, Loan, LoanStatus, Repayment
from .mutual import (
    Claim,
    ClaimCategory,
    ClaimStatus,
    ClaimVote,
    Cooperative,
    CoopMember,
    Premium,
    PremiumKind,
)

__all__ = [
    "REFUSED_STEPS",
    "AidPayment",
    "Application",
    "ApplicationStatus",
    "ApplicationStatusChange",
    "ApprovalThreshold",
    "Batch",
    "BatchStatus",
    "CapRule",
    "Category",
    "Claim",
    "ClaimCategory",
    "ClaimStatus",
    "ClaimVote",
    "ConflictFlag",
    "ConflictStep",
    "CoopMember",
    "Cooperative",
    "Decision",
    "DecisionLevel",
    "Installment",
    "Kind",
    "Loan",
    "LoanStatus",
    "PaymentBatch",
    "PaymentMethod",
    "Premium",
    "PremiumKind",
    "Program",
    "Repayment",
    "StandardAmount",
]
