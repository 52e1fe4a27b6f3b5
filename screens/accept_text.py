"""Everything the acceptance form (受理) says, in one place to review."""

from __future__ import annotations

from typing import Any

from models.enums import VerdictKind
from models.identity_check import METHOD_ZH, IdentityMethod

TEXT: dict[str, Any] = {
    "search": "事项：中文/拼音/首字母，回车选定",
    "no_item": "未选择事项",
    "item_line": "{kind}｜{promised}｜{name}",
    "instant": "即办件",
    "promised": "承诺件",
    "package": "一件事",
    "person": "个人",
    "org": "单位",
    "type_line": "申请人类型：{kind}（F6切换）",
    "id_person": "身份证号",
    "id_org": "统一社会信用代码",
    "name_person": "申请人姓名",
    "name_org": "单位名称",
    "phone": "手机号（可选）",
    "agent_name": "代办人姓名（可选）",
    "agent_id": "代办人身份证号",
    "ok": "✓ 校验通过",
    "columns": ("材料", "类别", "状态"),
    "tolerance": {"core": "核心", "tolerable": "可容缺", "optional": "非必要"},
    "status": {"presented": "已收", "e_license": "电子证照", "missing": "缺"},
    "verdict_empty": "请选择事项",
    "verdict": {
        VerdictKind.COMPLETE: "材料齐全：可以受理",
        VerdictKind.TOLERABLE: "可容缺受理（需申请人签署承诺书）",
        VerdictKind.NOT_ACCEPTABLE: "不予受理：将出具一次性告知书",
    },
    "supervisor_needed": "需值班长审批",
    "supplement": "  {name}：{limit}内补正",
    "commitment_on": "承诺书：已签署（F8撤销）",
    "commitment_off": "承诺书：未签署（F8签署）",
    "commitment_text": (
        "容缺受理承诺书\n\n本人/本单位申请办理“{item}”，所缺材料如下：\n{lines}\n"
        "本人/本单位承诺在上述期限内补齐材料并对其真实性负责；逾期未补正或补正材料不符合要求的，"
        "同意终止办理，在材料补齐前不予出证，并记入容缺承诺履行记录。\n\n申请人已阅读并签署？（Y 是 / N 否）"
    ),
    "nothing": "请先选择事项",
    "problems": "请更正以下内容后再提交：\n{lines}",
    "finished": "已当场办结：{case_no}",
    "accept": "受理",
    "back": "返回",
    "toggle_type": "类型",
    "all": "全部已收",
    "commit_key": "承诺书",
    "reset": "清空",
    # Identity check (身份核验) and 帮办代办.
    # The Select shows the key that cycles it (F5); the footer has no room left for it.
    "methods": {
        IdentityMethod.ID_CARD: "核验F5：" + METHOD_ZH[IdentityMethod.ID_CARD],
        IdentityMethod.E_ID: "核验F5：" + METHOD_ZH[IdentityMethod.E_ID],
        IdentityMethod.FACE: "核验F5：" + METHOD_ZH[IdentityMethod.FACE],
        IdentityMethod.AGENT: "核验F5：" + METHOD_ZH[IdentityMethod.AGENT],
    },
    "power_of_attorney": "授权委托书",
    "assisted": "帮办代办F9",
    "method_key": "核验",
    "assisted_key": "帮办",
    "specialist": "办事专员：{who}",
    "slip_hint": "受理后出具身份核验单",
}
