"""The queue's problem texts (排队叫号), merged into :data:`models.problems.MESSAGES`.

Kept apart so the queue's wording can be reviewed in one place; code -> (Chinese, English).
"""

from __future__ import annotations

QUEUE_MESSAGES: dict[str, tuple[str, str]] = {
    "queue.category_unknown": (
        "未知的排队类别或事项：{value}（可用 A 综合、B 企业、V 预约/绿色通道，或事项编码）",
        "unknown queue category or item: {value} (use A general, B enterprise, V appointment/priority,"
        " or an item code)",
    ),
    "queue.ticket_unknown": ("找不到号票：{ticket}（{day}）", "no such ticket: {ticket} ({day})"),
    "queue.ticket_exists": ("号票{ticket}（{day}）已存在", "ticket {ticket} ({day}) already exists"),
    "queue.illegal_transition": (
        "号票{ticket}当前为“{state}”，不能{event}",
        "ticket {ticket} is {state_code}: {event_code} is not allowed",
    ),
    "queue.window_invalid": (
        "窗口号无效：{value}（1至8位字母或数字）",
        "invalid window: {value} (1 to 8 letters or digits)",
    ),
    "queue.window_busy": (
        "{window}号窗口正在办理{ticket}：请先办结、过号或转窗",
        "window {window} still holds {ticket}: finish, skip or transfer it first",
    ),
    "queue.window_paused": (
        "{window}号窗口已暂停服务（{reason}）：请先恢复服务",
        "window {window} is paused ({reason}): resume it first",
    ),
    "queue.not_paused": ("{window}号窗口未暂停服务", "window {window} is not paused"),
    "queue.not_your_window": (
        "号票{ticket}在{holder}号窗口，不在{window}号窗口",
        "ticket {ticket} is at window {holder}, not {window}",
    ),
    "queue.empty": ("当前没有等候的号票", "nobody is waiting"),
    "queue.reason_required": ("暂停服务须填写原因", "a pause needs a reason"),
    "queue.transfer_target": (
        "转窗须指定另一窗口或另一类别",
        "a transfer needs another window or another category",
    ),
    "queue.too_many_cases": (
        "一次办理最多关联{limit}个办件",
        "a visit may produce at most {limit} cases",
    ),
    "queue.sequence_exhausted": (
        "{category}类号票今日已发满（{limit}个）",
        "category {category} has run out of numbers today ({limit})",
    ),
}
