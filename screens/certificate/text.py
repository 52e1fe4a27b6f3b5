"""Everything the clerk reads on the 统一出证 screen and its dialogs (simplified Chinese), in
one place for review."""

from __future__ import annotations

from typing import Any

TEXT: dict[str, Any] = {
    "filter": "筛选：办件编号、申请人姓名或证照标识",
    "awaiting_title": "待出证（办结准予，共{count}件）",
    "awaiting_columns": ("办件编号", "申请人", "事项", "证照"),
    "waiting_title": "待领取证照（共{count}件）",
    "waiting_columns": ("证照标识（尾号）", "证照", "持证主体", "颁发日期"),
    "issue": "出证",
    "collect": "领取",
    "mail": "寄递",
    "qr": "二维码",
    "print": "打印",
    "verify": "核验",
    "back": "返回",
    "confirm_issue": "为办件 {case_no}（{name}）出具：{types}\n有效期{years}。确认出证？",
    "years": "{n}年",
    "long_term": "长期有效",
    "issued": "已出证：{identifier}",
    "key_approval": "本站尚无经值班长批准的签章密钥：出证前须值班长登录确认（密钥随下次同步报总台登记）",
    "key_not_approved": "未经值班长确认，未出证",
    "print_failed": "保存失败：{reason}",
    "select_case": "请先在“待出证”中选择办件",
    "select_certificate": "请先在“待领取”中选择证照",
    "handed": "已交付：{identifier}（{how}）",
    # QR dialog
    "qr_title": "{type_name} · {holder}",
    "qr_lines": (
        "证照标识：\n{identifier}\n\n持证主体：\n{holder}\n{id_type}\n{masked}\n\n颁发：{issued}\n有效期至：{until}"
    ),
    "qr_save": "打印",
    "close": "关闭",
    # handover dialog
    "collect_title": "领取登记（核验领取人身份证）",
    "mail_title": "寄递登记",
    "collector_id": "领取人身份证号",
    "collector_name": "领取人姓名",
    "agent_on": "代领：是（F5切换）",
    "agent_off": "代领：否，持证人本人领取（F5切换）",
    "org_hint": "单位证照：须由经办人代领",
    "tracking": "快递单号",
    "holder_line": "证照：{type_name}  持证主体：{holder}（{masked}）",
    "confirm": "确认",
    "toggle_agent": "代领",
    "cancel": "取消",
    "id_ok": "✓ 身份证号校验通过",
    "id_match": "✓ 与持证人一致",
    "id_other": "与持证人不一致：他人代领请按F5",
    # verify dialog
    "verify_title": "证照核验（扫码或粘贴二维码内容，回车核验）",
    "verify_input": "二维码内容（一串数字，或ZZ1:…）",
    "verify_result": "{status}：{reason}",
    "verify_details": (
        "证照标识：{identifier}\n证照：{type_name}\n持证主体：{holder}（{masked}）\n有效期至：{until}"
    ),
}


def tail(identifier: str) -> str:
    """The distinctive end of an identifier (serial, version, check) for narrow tables."""
    return ".".join(identifier.split(".")[-3:])
