"""The language of the CLI's staff-facing text: Chinese unless told otherwise.

``--lang zh|en`` (before the command) wins, then ``WINDOW_CLIENT_LANG``, then the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``): a locale naming English (``en_US.UTF-8``) gives English,
anything else — ``zh_CN.UTF-8``, and also ``C`` or ``POSIX``, which minimal systems set without
anyone choosing them — Chinese, the counter's language. Problems carry both texts
(:class:`models.problems.Problem`); what only the CLI prints is in :data:`TEXT`, one table to
review. JSON keys never change with the language; only the human-readable strings do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from models.problems import Language

LANGUAGES: tuple[Language, ...] = ("zh", "en")
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

# key -> (Chinese, English); placeholders use str.format names.
TEXT: dict[str, tuple[str, str]] = {
    "error": ("错误：", "error: "),
    "lang.invalid": (
        "WINDOW_CLIENT_LANG 须为 zh 或 en（当前为 {value!r}）",
        "WINDOW_CLIENT_LANG must be zh or en (got {value!r})",
    ),
    "storage.full": (
        "磁盘已满：正在进行的一步已撤销，此前保存的内容均未丢失；请清理出空间后重新执行同一命令"
        "（批量受理会从中断处继续）",
        "the disk is full: the step in progress was undone and nothing saved before it was lost;"
        " free some space and run the same command again (a batch continues where it stopped)",
    ),
    "store.unusable": ("本地库无法使用：{detail}", "the local store could not be used: {detail}"),
    "file.unreadable": ("无法读取{path}：{detail}", "cannot read {path}: {detail}"),
    "file.missing": ("找不到文件：{path}", "no such file: {path}"),
    # batch accept
    "batch.title": ("批量受理结果", "batch acceptance"),
    "batch.title_dry": ("批量受理结果（试运行，未写入）", "batch acceptance (dry run: nothing written)"),
    "batch.total": ("合计", "total"),
    "batch.rejected": (
        "{count} 行未受理，原因见：{path}",
        "{count} row(s) rejected, with reasons: {path}",
    ),
    "batch.rejected_dry": (
        "{count} 行将不予受理（试运行不写退回文件，原因见 --report 报告）",
        "{count} row(s) would be rejected (a dry run writes no rejects file; --report gives the reasons)",
    ),
    "batch.report": ("报告：{path}", "report: {path}"),
    "batch.progress": ("受理中", "accepting"),
    # sync
    "sync.credentials": (
        "请设置 WINDOW_CLIENT_USER 和 WINDOW_CLIENT_PASSWORD（同步所用的工号和密码）",
        "set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD to the staff number and password to sync as",
    ),
    "sync.forbidden": (
        "{user}不能以站点{station}的身份登录{server}",
        "{user} may not sign in for station {station} at {server}",
    ),
    "sync.locked": (
        "大厅服务器{server}因多次登录失败已锁定{user}：请稍后再试，或请后台解锁"
        "（hall-server staff unlock {user}）",
        "the hall server at {server} locked the sign-in of {user} after repeated failures: try again"
        " later or ask the back office (hall-server staff unlock {user})",
    ),
    "sync.sign_in_refused": (
        "大厅服务器{server}拒绝了{user}的登录：请核对密码",
        "the hall server at {server} refused the sign-in of {user}: check the password",
    ),
    "sync.unreachable": (
        "无法连接大厅服务器（{message}）；{pending} 项操作仍在本地排队",
        "{message}; {pending} operation(s) stay queued locally",
    ),
    "sync.auth_required": (
        "大厅服务器要求重新登录（{code}）：未丢失任何数据，请重新执行同步",
        "the hall server asks for a new sign-in ({code}): nothing was lost, run sync again",
    ),
    "sync.server_error": (
        "大厅服务器出错（{status} {code}）：{message}",
        "the hall server reported an error ({status} {code}): {message}",
    ),
    "sync.done": (
        "已与{server}同步：上传 {pushed}，重复 {duplicates}，被拒收 {refused}，"
        "下载 {pulled}，待上传 {pending}",
        "synced with {server}: pushed {pushed}, duplicates {duplicates}, refused {refused},"
        " pulled {pulled}, pending {pending}",
    ),
    "sync.audit_alarm": (  # the Chinese reason starts with 大厅审计告警 itself
        "{reason}（见 `window-client audit verify --against-hall`）",
        "audit alarm: {reason} (see `window-client audit verify --against-hall`)",
    ),
    "sync.refused": (
        "大厅拒收了 {count} 项操作，均已保留在本地：见 `window-client sync refused`",
        "{count} operation(s) were refused by the hall and kept: see `window-client sync refused`",
    ),
    "sync.none_refused": ("没有被拒收的操作", "no refused operations"),
    "sync.none_awaiting": ("没有待阅的被拒收操作", "no refused operations awaiting review"),
    "sync.reviewer": (
        "请设置 WINDOW_CLIENT_USER 为审阅该操作的工号",
        "set WINDOW_CLIENT_USER to the staff number reviewing the operation",
    ),
    "sync.no_such_refused": (
        "没有被拒收的操作{op_id!r}（见 `window-client sync refused --all`）",
        "no refused operation {op_id!r} (see `window-client sync refused --all`)",
    ),
    "sync.ambiguous_refused": (
        "{op_id!r}对应{count}项被拒收的操作：请给出更长的编号",
        "{op_id!r} matches {count} refused operations: give more of the id",
    ),
    "sync.reviewed": ("{op_id}：{by}已于{at}审阅", "{op_id}: reviewed by {by} at {at}"),
    # cases list
    "cases.narrow": (
        "终端较窄，未显示：{columns}（加宽终端或用 --json 查看）",
        "narrow terminal, not shown: {columns} (widen it or use --json)",
    ),
}

# key -> (Chinese labels, English labels): table headers.
LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "batch.columns": (("status", "状态", "行数"), ("status", "状态", "rows")),
    "sync.refused_columns": (
        ("操作", "办件", "事件", "代码", "原因", "处理办法", "已阅"),
        ("op", "case", "event", "code", "reason", "what to do", "reviewed"),
    ),
}

_chosen: Language = "zh"


def language_from(environ: Mapping[str, str]) -> Language:
    """The language ``WINDOW_CLIENT_LANG`` or the locale asks for; raises ValueError for a
    WINDOW_CLIENT_LANG that is neither zh nor en."""
    chosen = environ.get("WINDOW_CLIENT_LANG", "").strip().lower()
    if chosen:
        for language in LANGUAGES:
            if chosen == language or chosen.startswith(language + "_"):
                return language
        raise ValueError(chosen)
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def choose(language: Language | None) -> Language:
    """Fix the language of this command: ``language`` (``--lang``) or the environment's."""
    global _chosen
    _chosen = language if language is not None else language_from(os.environ)
    return _chosen


def current() -> Language:
    """The language chosen for this command."""
    return _chosen


def say(key: str, /, **params: Any) -> str:
    """The CLI text ``key`` in the chosen language, filled in with ``params``."""
    zh, en = TEXT[key]
    return (zh if _chosen == "zh" else en).format(**params)


def labels(key: str) -> tuple[str, ...]:
    """A tuple of labels (table headers) in the chosen language."""
    zh, en = LABELS[key]
    return zh if _chosen == "zh" else en


class Bilingual(Protocol):
    """Anything with both texts: a :class:`~models.problems.Problem`, an audit alarm."""

    def zh(self) -> str:
        """The Chinese text."""

    def en(self) -> str:
        """The English text."""


def problem_text(problem: Bilingual) -> str:
    """A problem's text in the chosen language."""
    return problem.zh() if _chosen == "zh" else problem.en()
