"""The small vocabularies of certificates: holder code types, verification statuses, and the
error a QR text that cannot be used raises."""

from __future__ import annotations

from enum import StrEnum

from models.enums import ApplicantType
from models.problems import Problem


class HolderIdType(StrEnum):
    """证件类型 of a certificate holder (GB/T 36903 持证主体代码类型)."""

    CITIZEN_ID = "111"  # 公民身份号码
    USCC = "001"  # 统一社会信用代码

    @classmethod
    def of(cls, applicant_type: ApplicantType | str) -> HolderIdType:
        """The holder code type of an applicant type."""
        return cls.CITIZEN_ID if ApplicantType(applicant_type) is ApplicantType.PERSON else cls.USCC

    @property
    def zh(self) -> str:
        """The Chinese name of the code type."""
        return HOLDER_ID_TYPE_ZH[self]


HOLDER_ID_TYPE_ZH = {HolderIdType.CITIZEN_ID: "公民身份号码", HolderIdType.USCC: "统一社会信用代码"}


class VerifyStatus(StrEnum):
    """The answer of a verification (DESIGN.md §6 ``verify --json``)."""

    VALID = "valid"
    ALTERED = "altered"
    UNKNOWN_KEY = "unknown_key"
    REVOKED = "revoked"
    EXPIRED = "expired"
    MALFORMED = "malformed"


VERIFY_STATUS_ZH = {
    VerifyStatus.VALID: "有效",
    VerifyStatus.ALTERED: "已被篡改",
    VerifyStatus.UNKNOWN_KEY: "签章密钥未知",
    VerifyStatus.REVOKED: "已撤销",
    VerifyStatus.EXPIRED: "已过期",
    VerifyStatus.MALFORMED: "无法识别",
}


class QrDecodeError(ValueError):
    """A QR text that cannot be used, with the problem and the status it earns."""

    def __init__(self, status: VerifyStatus, problem: Problem) -> None:
        super().__init__(problem.en())
        self.status = status
        self.problem = problem
