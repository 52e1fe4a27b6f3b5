"""The documents a case produces, as data: 受理回执, 容缺受理通知书 with the signed 容缺受理承诺书,
一次性告知书.

Each front end renders a :class:`Document` its own way (the TUI on screen, the CLI as text or
JSON, the printable form as HTML); the wording lives here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from models.enums import CaseState, MaterialStatus, Tolerance
from models.identity_check import CaseIdentity
from models.problems import Problem
from models.records import CaseView, MaterialView

_TOLERANCE_ZH = {
    Tolerance.CORE: "核心要件",
    Tolerance.TOLERABLE: "可容缺材料",
    Tolerance.OPTIONAL: "非必要材料",
}
_STATUS_ZH = {
    MaterialStatus.PRESENTED: "已提交",
    MaterialStatus.E_LICENSE: "电子证照免提交",
    MaterialStatus.MISSING: "未提交",
}


@dataclass(frozen=True)
class Document:
    """A printable document: heading fields, one table, paragraphs and signature lines."""

    kind: str  # "receipt" | "tolerance_notice" | "commitment" | "one_time_notice" | "identity_slip"
    title: str
    case_no: str
    copies: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]
    table_header: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]
    paragraphs: tuple[str, ...]
    signatures: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def to_text(self, width: int = 72) -> str:
        """Plain text for a terminal, a file or a line printer (one block per copy)."""
        blocks = []
        for copy in self.copies or ("",):
            lines = [self.title.center(width).rstrip()]
            if copy:
                lines.append(f"（{copy}）".center(width).rstrip())
            lines.append("")
            lines += [f"{label}：{value}" for label, value in self.fields]
            if self.table_rows:
                lines.append("")
                lines.append(" | ".join(self.table_header))
                lines += [" | ".join(row) for row in self.table_rows]
            lines.append("")
            lines += list(self.paragraphs)
            lines.append("")
            lines += [f"{s}：____________" for s in self.signatures]
            blocks.append("\n".join(lines))
        return ("\n\n" + "-" * width + "\n\n").join(blocks) + "\n"


def _date(value: Any, provisional: bool) -> str:
    if value is None:
        return "—"
    text = f"{value.year}年{value.month}月{value.day}日"
    return text + "（暂定：该年度节假日安排尚未公布）" if provisional else text


def _head(case: CaseView, station_name: str) -> list[tuple[str, str]]:
    fields = [
        ("办件编号", case.case_no),
        ("申请事项", case.item_name),
        ("申请人", case.applicant_name),
        ("证件号码", case.applicant_id_masked),
    ]
    if case.agent_name:
        fields.append(("代办人", case.agent_name))
    fields += [
        ("受理窗口", station_name),
        ("受理人", case.clerk),
        ("受理日期", _date(case.accepted_on, False)),
    ]
    return fields


def receipt(
    case: CaseView, materials: Sequence[MaterialView], station_name: str, evaluation_code: str | None = None
) -> Document:
    """受理回执 for an accepted case, with its 好差评 evaluation code when given."""
    rating = (("评价码", evaluation_code),) if evaluation_code else ()
    invite = (
        (f"欢迎对本次服务作出评价（好差评）：窗口评价器，或凭评价码{evaluation_code}评价。",)
        if evaluation_code
        else ()
    )
    due = "当场办结" if case.due_date == case.accepted_on else _date(case.due_date, case.due_provisional)
    rows = tuple(
        (m.name, _STATUS_ZH[MaterialStatus(m.status)])
        for m in materials
        if m.status != MaterialStatus.MISSING
    )
    return Document(
        kind="receipt",
        title="受理回执",
        case_no=case.case_no,
        copies=("申请人留存联",),
        fields=(*_head(case, station_name), ("承诺办结日期", due), *rating),
        table_header=("已收材料", "提交方式"),
        table_rows=rows,
        paragraphs=(
            "您的申请材料齐全、符合法定形式，本窗口已予受理。",
            "请凭本回执及办件编号查询办理进度、领取办理结果。",
            *invite,
        ),
        signatures=("受理人签字", "申请人签字"),
    )


def tolerance_notice(case: CaseView, materials: Sequence[MaterialView], station_name: str) -> Document:
    """容缺受理通知书, in two copies: the applicant's and the case file's."""
    missing = _tolerated(case, materials)
    rows = tuple(
        (
            m.name,
            "原件或复印件（以事项要求为准）",
            _date(m.supplement_due, case.supplement_provisional),
        )
        for m in missing
    )
    fields = _head(case, station_name)
    if case.approved_by:
        fields.append(("审批人（值班长）", case.approved_by))
    return Document(
        kind="tolerance_notice",
        title="容缺受理通知书",
        case_no=case.case_no,
        copies=("申请人留存联", "档案联"),
        fields=tuple(fields),
        table_header=("容缺材料", "补正形式", "补正期限"),
        table_rows=rows,
        paragraphs=(
            "您申请的事项主要申请材料齐全，次要材料暂缺，根据容缺受理有关规定，本窗口予以容缺受理。",
            "请您按照《容缺受理承诺书》的承诺，在上表所列补正期限内提交所缺材料。",
            "补正期间暂停计算办理时限，材料补齐之日起恢复计算；材料补齐前不予出证。",
            "逾期未补正或补正材料不符合要求的，终止办理，并记入申请人容缺承诺履行记录。",
        ),
        signatures=("申请人签字（承诺人）", "受理人签字"),
    )


def _tolerated(case: CaseView, materials: Sequence[MaterialView]) -> list[MaterialView]:
    return [m for m in materials if m.status == MaterialStatus.MISSING and m.supplement_due]


def commitment_letter(case: CaseView, materials: Sequence[MaterialView], station_name: str) -> Document:
    """容缺受理承诺书 the applicant signed at acceptance: the promise, the missing materials with
    their deadlines, and the record of the signing (who, where, when, witnessed by whom)."""
    rows = tuple(
        (m.name, _date(m.supplement_due, case.supplement_provisional)) for m in _tolerated(case, materials)
    )
    signer = case.applicant_name + (f"（代办人：{case.agent_name}）" if case.agent_name else "")
    signatures = ["承诺人（申请人）签字"]
    if case.agent_name:
        signatures.append("代办人签字")
    return Document(
        kind="commitment",
        title="容缺受理承诺书",
        case_no=case.case_no,
        copies=("档案联", "申请人留存联"),
        fields=tuple(_head(case, station_name)),
        table_header=("容缺材料", "承诺补正期限"),
        table_rows=rows,
        paragraphs=(
            f"本人（单位）{case.applicant_name}申请办理“{case.item_name}”，"
            "因上表所列材料暂缺，申请容缺受理，并郑重承诺：",
            "一、所提交的申请材料真实、合法、有效，如有虚假，愿承担相应法律责任；",
            "二、在上表所列补正期限内补齐所缺材料，补正材料与承诺内容一致；",
            "三、补正期间暂停计算办理时限，材料补齐前不出具办理结果；",
            "四、逾期未补正或补正材料不符合要求的，同意终止办理，并记入本人（单位）容缺承诺履行记录。",
            f"签署记录：{signer}于{_date(case.accepted_on, False)}在{station_name}签署本承诺书，"
            f"受理人{case.clerk}见证，随办件{case.case_no}存档。",
        ),
        signatures=(*signatures, "受理人签字（见证）"),
    )


def one_time_notice(
    case: CaseView, materials: Sequence[MaterialView], reasons: Sequence[Problem], station_name: str
) -> Document:
    """一次性告知书: everything that is missing, at once, and why the case was not accepted."""
    rows = tuple(
        (m.name, _TOLERANCE_ZH[Tolerance(m.tolerance)], "请补齐后重新申请")
        for m in materials
        if m.status == MaterialStatus.MISSING and m.tolerance != Tolerance.OPTIONAL
    )
    return Document(
        kind="one_time_notice",
        title="一次性告知书",
        case_no=case.case_no,
        copies=("申请人留存联", "档案联"),
        fields=tuple(_head(case, station_name)),
        table_header=("所缺材料", "材料类别", "要求"),
        table_rows=rows,
        paragraphs=(
            "经审查，您的申请暂不符合受理条件，现一次性告知如下：",
            *(f"· {p.zh()}" for p in reasons),
            "请按上表一次性补齐全部材料后再次申请。如有疑问，可向本窗口咨询。",
        ),
        signatures=("受理人签字", "申请人签字"),
    )


def documents_for(
    case: CaseView,
    materials: Sequence[MaterialView],
    station_name: str,
    evaluation_code: str | None = None,
    identity: CaseIdentity | None = None,
) -> list[Document]:
    """The documents a case's acceptance produced; a tolerated case keeps its signed 承诺书, and
    a face check (``identity``) adds its 身份核验单.

    ``evaluation_code`` goes on the 受理回执
    (:meth:`~window_client.services.ratings.RatingService.code_for`).
    """
    docs = _acceptance_documents(case, materials, station_name, evaluation_code)
    if identity is not None:
        # Imported here: the slip's module builds on this one's Document.
        from window_client.services.identity_slip import identity_slip

        slip = identity_slip(case, identity, station_name)
        docs += [slip] if slip else []
    return docs


def _acceptance_documents(
    case: CaseView, materials: Sequence[MaterialView], station_name: str, evaluation_code: str | None
) -> list[Document]:
    reasons = []
    for stored in case.reasons:
        params = stored.get("params")
        reasons.append(Problem(str(stored["code"]), dict(params) if isinstance(params, dict) else {}))
    if case.state == CaseState.NOT_ACCEPTED:
        return [one_time_notice(case, materials, reasons, station_name)]
    if case.verdict == "tolerable":
        notice = tolerance_notice(case, materials, station_name)
        return [notice, commitment_letter(case, materials, station_name)] if case.commitment else [notice]
    return [receipt(case, materials, station_name, evaluation_code)]
