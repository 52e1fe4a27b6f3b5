"""Problems found in input, with their texts in both languages kept in one reviewable table.

The screen shows the Chinese text; the CLI and its JSON reports use the English one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> (Chinese, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "id.empty": ("证件号码不能为空", "the ID number is empty"),
    "id.length": (
        "身份证号应为18位（当前{length}位）",
        "a resident ID number has 18 characters (got {length})",
    ),
    "id.format": (
        "身份证号格式不正确：只能是17位数字加一位数字或X",
        "the ID number must be 17 digits and a digit or X",
    ),
    "id.region": (
        "身份证号前6位不是有效的行政区划代码",
        "the first 6 digits of the ID number are not a known region code",
    ),
    "id.birth": (
        "身份证号中的出生日期无效",
        "the birth date inside the ID number is not a real date",
    ),
    "id.check": ("身份证号校验位错误，请核对", "the ID number's check character is wrong"),
    "uscc.length": (
        "统一社会信用代码应为18位（当前{length}位）",
        "a unified social credit code has 18 characters (got {length})",
    ),
    "uscc.format": (
        "统一社会信用代码含有不允许的字符（不使用I、O、S、V、Z）",
        "the credit code has characters outside its alphabet (no I, O, S, V, Z)",
    ),
    "uscc.check": (
        "统一社会信用代码校验位错误，请核对",
        "the credit code's check character is wrong",
    ),
    "name.empty": ("姓名/名称不能为空", "the name is empty"),
    "name.too_long": (
        "姓名/名称过长（最多{limit}个字符）",
        "the name is too long (at most {limit} characters)",
    ),
    "name.control": (
        "姓名/名称含有控制字符或终端转义序列",
        "the name contains control characters or terminal escape sequences",
    ),
    "name.chars": (
        "姓名/名称含有不允许的字符：{chars}",
        "the name contains characters not allowed in a name: {chars}",
    ),
    "phone.format": (
        "手机号码格式不正确（应为11位，以1开头）",
        "the phone number must be 11 digits starting with 1",
    ),
    "item.unknown": ("未知的事项编码：{code}", "unknown item or package code: {code}"),
    "item.not_at_station": (
        "本站点不受理该事项：{code}",
        "this station does not accept item {code}",
    ),
    "material.unknown": (
        "事项{item}不需要此材料：{code}",
        "material {code} is not required by {item}",
    ),
    "field.too_long": (
        "字段{field}过长（最多{limit}个字符）",
        "field {field} is too long (at most {limit} characters)",
    ),
    "field.invalid": (
        "字段{field}的值无效：{value}",
        "field {field} has an invalid value: {value}",
    ),
    "field.required": ("缺少必填字段：{field}", "required field {field} is empty"),
    "row.unreadable": ("该行无法读取：{detail}", "the row cannot be read: {detail}"),
    "applicant_type.mismatch": (
        "申请人类型与证件号码不符",
        "the applicant type does not match the ID (person needs a resident ID, org a credit code)",
    ),
    # Verdict reasons
    "verdict.core_missing": ("缺少核心要件：{names}", "core materials missing: {names}"),
    "verdict.dishonest": (
        "申请人有失信记录，不适用容缺受理",
        "the applicant has a dishonesty (失信) record: tolerance is not offered",
    ),
    "verdict.unfulfilled": (
        "申请人有未履行的容缺承诺（一处失信，处处受限）",
        "the applicant has an unfulfilled tolerance commitment",
    ),
    "verdict.too_many_missing": (
        "缺少可容缺材料{count}项，超过本事项允许的{limit}项",
        "{count} tolerable materials missing, more than the {limit} this item allows",
    ),
    "verdict.no_time": (
        "即办件不适用容缺受理（补正期限不得超过承诺时限）",
        "an instant item cannot be tolerated (the 补正 deadline may not exceed the promised limit)",
    ),
    "verdict.tolerance_disabled": (
        "本窗口未开通容缺受理",
        "tolerance acceptance is disabled by policy",
    ),
    "verdict.no_commitment": (
        "申请人未签署容缺受理承诺书",
        "the applicant did not sign the tolerance commitment",
    ),
    "verdict.needs_supervisor": (
        "需值班长审批后方可容缺受理",
        "a supervisor must approve this tolerance",
    ),
    "case.illegal_transition": (
        "办件{case_no}当前状态为“{state}”，不能执行“{event}”",
        "case {case_no} is {state_code}: '{event_code}' is not allowed",
    ),
    "case.unknown": ("找不到办件：{case_no}", "no such case: {case_no}"),
    "supplement.late": ("补正已超过期限（{due}）", "the supplement is past its deadline ({due})"),
    "supplement.nonconforming": ("补正材料不符合要求", "the supplemented materials do not conform"),
    "supplement.incomplete": ("仍缺少材料：{names}", "materials still missing: {names}"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with a stable code; render with :meth:`zh` or :meth:`en`."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def zh(self) -> str:
        """Chinese text for the screen and printed documents."""
        return MESSAGES[self.code][0].format(**self.params)

    def en(self) -> str:
        """English text for the CLI and JSON reports."""
        return MESSAGES[self.code][1].format(**self.params)


class DomainError(Exception):
    """A refused operation carrying a :class:`Problem`; never a crash."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.en())
        self.problem = problem

    @classmethod
    def of(cls, message_code: str, /, **params: Any) -> DomainError:
        """Build the error from a message code and its parameters."""
        return cls(Problem(message_code, params))
