"""身份核验单: the counter's record of a face check (人脸核验) for an applicant who came without
the ID card, issued with the case's other documents (:mod:`window_client.services.documents`)."""

from __future__ import annotations

from models.identity_check import CaseIdentity, IdentityMethod
from models.records import CaseView
from window_client.services.documents import Document


def identity_slip(case: CaseView, identity: CaseIdentity, station_name: str) -> Document | None:
    """The 身份核验单 of a case identified by a face check; None for any other check."""
    if identity.method is not IdentityMethod.FACE or not identity.slip:
        return None
    day = case.accepted_on
    return Document(
        kind="identity_slip",
        title="身份核验单",
        case_no=case.case_no,
        copies=("档案联", "申请人留存联"),
        fields=(
            ("核验单编号", identity.slip),
            ("办件编号", case.case_no),
            ("申请事项", case.item_name),
            ("申请人", case.applicant_name),
            ("证件号码", case.applicant_id_masked),
            ("核验方式", "人脸核验（未携带居民身份证原件）"),
            ("核验结果", "人证一致，核验通过"),
            ("核验窗口", station_name),
            ("核验人", case.clerk),
            ("核验日期", f"{day.year}年{day.month}月{day.day}日"),
        ),
        table_header=(),
        table_rows=(),
        paragraphs=(
            "申请人未携带居民身份证原件，经本窗口现场人脸识别比对，确认其与所申报的身份信息一致，"
            "特出具本核验单作为本次办件的身份证明。",
            f"本核验单仅用于办件{case.case_no}，随办件存档，不作他用。",
        ),
        signatures=("核验人签字", "申请人签字"),
    )
