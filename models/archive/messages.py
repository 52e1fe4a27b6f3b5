"""Every text of 电子档案 (writing and checking packages) in Chinese and English: one table to review.

A finding, an :class:`~models.archive.writer.ArchiveError` and a problem of an audit slice carry
an :class:`ArchiveText` (a code and its parameters), rendered in the language the front end chose.
``str()`` of an error and a finding's ``message`` stay English: logs, benchmarks and the hall's
CLI read them. Chinese uses the archivists' standard terms: 电子档案, 档案包, 归档, 数字摘要,
电子签章/电子签名, 篡改, 缺失, 新增.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.problems import Language

# code -> (Chinese, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    # the package's files (models.archive.verify)
    "file.added": ("{path}为新增文件（不在清单中）", "{path} was added (not in the manifest)"),
    "file.removed": ("{path}缺失（已被删除）", "{path} was removed"),
    "file.replaced": ("{path}被替换为链接或文件夹", "{path} was replaced by a link or a folder"),
    "file.altered": ("{path}被篡改（SM3 数字摘要不符）", "{path} was altered (its SM3 digest differs)"),
    "case.removed": ("办件文件夹{folder}整个缺失", "the whole case folder {folder} was removed"),
    "manifest.sealed_then_altered": (
        "{manifest}在电子签章之后被篡改",
        "{manifest} was altered after it was sealed",
    ),
    "manifest.unreadable": ("{manifest}无法读取", "{manifest} is unreadable"),
    "manifest.bad_path": ("清单列出了档案包以外的路径", "the manifest lists a path outside the package"),
    "manifest.bad_entry": ("清单中该文件的条目格式有误", "the manifest's entry of this file is malformed"),
    # the seal
    "seal.missing": ("{seal}缺失：档案包未经电子签章", "{seal} was removed: the package is not sealed"),
    "seal.unreadable": ("{seal}不是可识别的电子签章", "{seal} is not a readable seal"),
    "seal.unknown_key": (
        "电子签章所用的密钥{key_id}不在本机信任的密钥之中（为其他密钥所签，或该密钥未在此发布）",
        "the seal was made with key {key_id}, which this verifier does not trust"
        " (another key, or not published here)",
    ),
    "seal.key_mismatch": (
        "电子签章声称使用密钥{key_id}，但所附公钥或站点与之不符",
        "the seal names key {key_id} but carries another public key or station",
    ),
    "seal.invalid": (
        "电子签名核验不通过：{seal}被篡改或伪造",
        "the seal does not verify: {seal} was altered or forged",
    ),
    "seal.key_revoked": (
        "签章密钥{key_id}已于{at}撤销：其电子签章不能证明任何内容",
        "the sealing key {key_id} was revoked at {at}: its seal proves nothing",
    ),
    # a case's audit slice (models.archive.slice)
    "slice.no_events": ("审计链片段中没有事件列表", "the audit slice holds no list of events"),
    "slice.malformed": ("审计链片段中有格式错误的事件", "an event of the audit slice is malformed"),
    "slice.order": (
        "第{seq}条事件顺序错乱（排在第{last}条之后）",
        "event {seq} is out of order (after {last})",
    ),
    "slice.subject": (
        "第{seq}条事件属于{subject}，不属于{case_no}",
        "event {seq} is about {subject}, not {case_no}",
    ),
    "slice.hash": (
        "第{seq}条事件（{action}）与其哈希值不符：已被篡改",
        "event {seq} ({action}) does not match its hash: it was altered",
    ),
    "slice.step": (
        "第{seq}条事件：从{state_zh}经{name}不是办件流转允许的步骤",
        "event {seq}: {name} from {state} is not a step of the state machine",
    ),
    "slice.state": (
        "办件记录的状态为{recorded}，而审计事件推得的状态为{state}",
        "the case record says {recorded}, its audited events lead to {state}",
    ),
    # not a package (exit 2 of archive verify)
    "archive.missing": ("{root}不存在", "{root} does not exist"),
    "archive.not_folder": ("{root}不是文件夹", "{root} is not a folder"),
    "archive.not_package": (
        "{root}不是档案包：其中没有档案包的{manifest}和{seal}",
        "{root} is not an archive: it has no {manifest} and {seal} of a package",
    ),
    "archive.case_folder": (
        "{root}不是档案包：其中没有档案包的{manifest}和{seal}（它像是档案包{parent}中的一件：请核验该文件夹）",
        "{root} is not an archive: it has no {manifest} and {seal} of a package"
        " (it looks like one case of the archive {parent}: verify that folder)",
    ),
    # writing a package, keys given out of band
    "target.not_folder": (
        "{out}已存在且不是文件夹：请选择新的或空的文件夹",
        "{out} exists and is not a folder: choose a new or empty folder",
    ),
    "target.not_empty": (
        "{out}不是空文件夹：请选择新的或空的文件夹（不会覆盖已有内容）",
        "{out} is not empty: choose a new or empty folder (nothing is overwritten)",
    ),
    "archive.nothing_on_day": (
        "{day}没有受理任何办件：无可归档",
        "no case was accepted on {day}: nothing to archive",
    ),
    "key_file.unreadable": ("无法读取密钥文件{path}：{detail}", "cannot read the key file {path}: {detail}"),
    "key_file.no_key": (
        "{path}中没有密钥：应为 {{'key_id', 'station', 'public_key'}}",
        "{path} holds no key: expected {{'key_id', 'station', 'public_key'}}",
    ),
    "key_file.bad_key": ("密钥文件{path}有误：{detail}", "{path}: {detail}"),
    "key_file.wrong_id": (
        "{path}：密钥编号{key_id}与该公钥不符",
        "{path}: the key id {key_id} does not belong to that public key",
    ),
}

# A finding's ``kind`` (the --json code, never translated) as a clerk reads it.
KIND_ZH: dict[str, str] = {
    "altered": "被篡改",
    "added": "新增",
    "removed": "缺失",
    "manifest_altered": "清单被篡改",
    "seal_missing": "电子签章缺失",
    "seal_invalid": "电子签名无效",
    "seal_unknown_key": "签章密钥不受信任",
    "seal_key_mismatch": "签章密钥不符",
    "seal_key_revoked": "签章密钥已撤销",
    "bad_path": "路径越出档案包",
    "audit_slice": "审计链片段不符",
}


@dataclass(frozen=True, slots=True)
class ArchiveText:
    """One archive text with a stable code; render with :meth:`zh`, :meth:`en` or :meth:`text`."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, /, **params: Any) -> ArchiveText:
        """The text ``code`` with its parameters."""
        return cls(code, params)

    def zh(self) -> str:
        """The Chinese text."""
        return MESSAGES[self.code][0].format(**self.params)

    def en(self) -> str:
        """The English text."""
        return MESSAGES[self.code][1].format(**self.params)

    def text(self, language: Language) -> str:
        """The text in ``language``."""
        return self.zh() if language == "zh" else self.en()
