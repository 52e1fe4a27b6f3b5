"""Refused operations as staff see them: the server's reason and what to do about it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from offline_cache import sync_repo

# What staff can do about a refused operation, per server code: (Chinese, English).
REFUSED_ACTIONS: dict[str, tuple[str, str]] = {
    # 跨区通办: the owning hall refused the case this station accepted for it (异地收件).
    "crosshall.unknown_item": (
        "归属地大厅没有对应的通办事项，办件未转办；请与值班长核对两地事项目录（hall-server catalog diff），"
        "必要时告知申请人到归属地办理",
        "the owning hall has no such 通办 item and the case was not forwarded: have the supervisor"
        " compare the two catalogues (hall-server catalog diff) and, if need be, send the applicant"
        " to the owning hall",
    ),
    "crosshall.case_exists": (
        "归属地大厅已有同号的另一办件，办件未转办；请联系系统管理员核查",
        "the owning hall already holds another case under this number and the case was not"
        " forwarded: ask the system administrator",
    ),
    "case.conflict": (
        "大厅已按规则采用另一项变更，本地已更新为大厅状态；如有异议请联系值班长",
        "the hall kept another change under its rules and this station now shows the hall's"
        " state; ask the supervisor if you disagree",
    ),
    "case.illegal_transition": (
        "大厅的办件状态不允许该操作，本地已更新为大厅状态；请核对办件后按当前状态重新办理",
        "the case's state at the hall does not allow this step; this station now shows the hall's"
        " state: check the case and redo the step if it still applies",
    ),
    "auth.forbidden": (
        "该操作需要相应权限（如值班长审批），请由有权限的人员重新办理",
        "this step needs a role the signer does not have (e.g. a supervisor): have an"
        " authorised person redo it",
    ),
    "op.mismatch": (
        "大厅已有同一编号但内容不同的操作，本地操作未被采用；请联系系统管理员核查",
        "the hall holds a different operation under the same id; this one was not applied:"
        " ask the system administrator to check",
    ),
    "case.unknown": (
        "大厅没有该办件的受理记录；请确认受理操作已同步，如仍被拒收请联系系统管理员",
        "the hall has no such case: make sure its acceptance was synced, otherwise ask the"
        " system administrator",
    ),
    "case.needs_supervisor": (
        "终止办件须经值班长审批；请值班长登录后重新办理终止",
        "terminating a case needs a supervisor's approval: have a supervisor redo it",
    ),
    "case.exists": (
        "大厅已有同号但内容不同的办件；请联系系统管理员核查",
        "the hall already has a different case under this number: ask the system administrator",
    ),
    "op.invalid": (
        "大厅认为该操作内容不完整或无效；请联系系统管理员核查",
        "the hall found the operation incomplete or invalid: ask the system administrator",
    ),
    "op.unsafe_text": (
        "操作中含有控制字符或文字方向控制符，大厅未保存；请核对办件信息中的异常字符后重新办理",
        "the operation holds a control or text-direction character and was not kept: correct the"
        " case's text and redo it",
    ),
    "request.invalid": (
        "大厅无法识别该操作（格式无效）；请联系系统管理员",
        "the hall could not read this operation (invalid format): ask the system administrator",
    ),
    "accept.invalid": (
        "大厅按现行事项目录和规则校验未通过，办件未在大厅登记；请核对受理信息（目录须先同步），"
        "必要时按正确信息重新受理",
        "the hall's checks (current catalogue and rules) failed and the case was not recorded"
        " there: check the acceptance (sync the catalogue first) and accept it again if needed",
    ),
    "accept.inconsistent": (
        "受理结论与所交材料不符，办件未在大厅登记；请核对材料清单后重新受理",
        "the state does not follow from the materials presented and the case was not recorded at"
        " the hall: check the checklist and accept it again",
    ),
    "accept.needs_approval": (
        "该容缺受理须值班长在本机登录签批；请值班长核查后重新受理",
        "this tolerance needs a supervisor to sign in at the counter and approve: have the"
        " supervisor check it and accept it again",
    ),
    "case.number_invalid": (
        "办件编号不符合本站编号规则，办件未在大厅登记；请联系系统管理员核查本站配置",
        "the case number does not follow this station's numbering and the case was not recorded"
        " at the hall: ask the system administrator to check the station's settings",
    ),
}
DEFAULT_ACTION = (
    "请值班长核查该操作，必要时按办件当前状态重新办理",
    "ask the supervisor to check this operation and redo it against the case's current state",
)


@dataclass(frozen=True, slots=True)
class RefusedOperation:
    """A refused operation as staff see it (plain data for screens and the CLI)."""

    op_id: str
    seq: int
    kind: str
    case_no: str | None
    event: str | None
    created_at: str
    code: str
    reason: str  # the server's reason (Chinese)
    action_zh: str
    action_en: str
    winner: str | None
    reviewed_by: str | None
    reviewed_at: str | None

    def to_json(self) -> dict[str, Any]:
        """The ``window-client sync refused --json`` form."""
        return {
            "op_id": self.op_id,
            "seq": self.seq,
            "kind": self.kind,
            "case_no": self.case_no,
            "event": self.event,
            "created_at": self.created_at,
            "code": self.code,
            "reason": self.reason,
            "action": self.action_en,
            "action_zh": self.action_zh,
            "winner": self.winner,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at,
        }


def refused_view(row: sync_repo.RefusedRow) -> RefusedOperation:
    """A stored refused operation with the action staff can take."""
    code = row.code or "unknown"
    zh, en = REFUSED_ACTIONS.get(code, DEFAULT_ACTION)
    try:
        event = json.loads(row.payload).get("event")
    except (ValueError, AttributeError):
        event = None
    return RefusedOperation(
        op_id=row.op_id,
        seq=row.seq,
        kind=row.kind,
        case_no=row.case_no,
        event=event if isinstance(event, str) else None,
        created_at=row.created_at,
        code=code,
        reason=row.reason or "",
        action_zh=zh,
        action_en=en,
        winner=row.winner,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )
