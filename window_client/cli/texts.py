"""Every line the CLI itself prints to staff, in Chinese and English: one table to review.

Problems (:mod:`models.problems`) carry their own texts; what is here is the CLI's frame around
them: results, labels and usage errors. Chinese uses the hall's standard terms (受理, 容缺受理,
不予受理, 补正, 办结, 出证, 领取, 销号). JSON output never comes from this table.
"""

from __future__ import annotations

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
    "os.failed": (
        "无法读写{path}：{detail}（此前保存的内容均未丢失）",
        "cannot read or write {path}: {detail} (nothing saved before was lost)",
    ),
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
    "sync.status_server": ("大厅服务器：{server}（{state}）", "hall server: {server} ({state})"),
    "sync.status_online": ("在线", "online"),
    "sync.status_unreachable": ("无法连接", "unreachable"),
    "sync.status_unchecked": ("未检查", "not checked"),
    "sync.status_station": ("站点：    {station}", "station:     {station}"),
    "sync.status_pending": ("待上传：  {pending} 项操作", "pending:     {pending} operation(s)"),
    "sync.status_refused": (
        "被拒收：  {refused} 项操作未审阅",
        "refused:     {refused} operation(s) not yet reviewed",
    ),
    "sync.status_last": ("上次同步：{at}", "last sync:   {at}"),
    "sync.status_never": ("从未同步", "never"),
    "sync.status_stale": ("暂停受理新办件：", "new cases refused: "),
    # a supervisor's approval (cert revoke, keys rotate, cases supplement --nonconforming)
    "supervisor.needed": (
        "{purpose}须由值班长审批：请将 WINDOW_CLIENT_USER 和 WINDOW_CLIENT_PASSWORD 设为值班长的工号和密码",
        "{purpose} needs a supervisor: set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD",
    ),
    "supervisor.failed": ("值班长核验未通过：{reason}", "supervisor check failed: {reason}"),
    "purpose.revocation": ("撤销证照", "a revocation"),
    "purpose.new_key": ("启用新的签章密钥", "a new signing key"),
    "purpose.nonconforming": (
        "补正材料不符合要求将终止办件，",
        "rejecting materials terminates the case and",
    ),
    # cert and keys
    "cert.format": ("请使用 html 或 svg", "use html or svg"),
    "cert.cannot_write": ("无法写入{path}：{detail}", "cannot write {path}: {detail}"),
    "cert.saved": (
        "已将证照{identifier}的打印页（{format}）保存到{path}",
        "saved {format} of {identifier} to {path}",
    ),
    "cert.handed_over": (
        "{identifier}：已交付（{kind}）{who}，{on}",
        "{identifier}: handed over ({kind}) {who} on {on}",
    ),
    "cert.revoked": ("{identifier}：已撤销（值班长{staff_no}审批）", "{identifier}: revoked by {staff_no}"),
    "cert.counts": (
        "{day}：出证 {issued} 件，领取 {handed_over} 件，待领取 {waiting} 件",
        "{day}: issued {issued}, handed over {handed_over}, waiting {waiting}",
    ),
    "keys.none": (
        "尚无签章密钥：本站出具第一份证照时生成（须值班长审批）",
        "no keys yet: the first certificate issued here generates this station's key"
        " (a supervisor approves it)",
    ),
    "keys.rotated": (
        "已启用新的签章密钥{key_id}（值班长{staff_no}审批）；此前的密钥已停用（仍可核验其签发的证照）",
        "new signing key {key_id}, approved by {staff_no}; earlier keys retired"
        " (they still verify old certificates)",
    ),
    "publish.credentials": (
        "请设置 WINDOW_CLIENT_USER 和 WINDOW_CLIENT_PASSWORD（发布所用的工号和密码）",
        "set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD to the staff number and password to publish as",
    ),
    "publish.sign_in_refused": (
        "大厅服务器{server}拒绝了{user}的登录：请核对工号和密码",
        "the hall server at {server} refused the sign-in of {user}: check the credentials",
    ),
    "publish.stopped": (
        "发布中断：{message}（未丢失任何数据，请重新执行）",
        "publishing stopped: {message} (nothing was lost; run it again)",
    ),
    "publish.done": (
        "已向{server}发布 {keys} 个密钥和 {revocations} 项撤销",
        "published {keys} key(s) and {revocations} revocation(s) to {server}",
    ),
    "publish.refused": ("被拒收：{line}", "refused: {line}"),
    # verify (a certificate)
    "verify.too_large": (
        "{path}超过 {mib} MiB：不是证照",
        "{path} is larger than {mib} MiB: not a certificate",
    ),
    "verify.status": ("{zh}（{status}）", "{status} ({zh})"),
    "verify.identifier": ("证照标识：{value}", "identifier:  {value}"),
    "verify.type": ("证照类型：{value}", "type:        {value}"),
    "verify.holder": ("持证主体：{name}（{id_type} {id}）", "holder:      {name} ({id_type} {id})"),
    "verify.valid": ("有效期：  {issued} 至 {until}", "valid:       {issued} .. {until}"),
    "verify.long_term": ("长期有效", "long-term"),
    "verify.sealed": ("签章密钥：{key}（站点 {station}）", "sealed by:   {key} (station {station})"),
    # audit verify
    "audit.credentials": (
        "请设置 WINDOW_CLIENT_USER 和 WINDOW_CLIENT_PASSWORD 以与大厅核对",
        "set WINDOW_CLIENT_USER and WINDOW_CLIENT_PASSWORD to compare with the hall",
    ),
    "audit.sign_in_refused": (
        "大厅服务器{server}拒绝了{user}的登录",
        "the hall server at {server} refused the sign-in of {user}",
    ),
    "audit.unreachable": ("无法连接大厅服务器：{message}", "{message}"),
    "audit.hall_failed": ("大厅服务器无法应答：{message}", "the hall server could not answer: {message}"),
    "audit.hall_seen": (
        "；与大厅保存的 {anchors} 个链头一致",
        "; matches the {anchors} head(s) the hall kept",
    ),
    "audit.intact": (
        "审计记录完整：{events} 条事件，{cases} 件办件与其事件一致{seen}",
        "audit trail intact: {events} events, {cases} cases match their events{seen}",
    ),
    "audit.broken": (
        "审计记录已被破坏（{events} 条事件完好，已核对 {cases} 件办件）：",
        "audit trail BROKEN ({events} good events, {cases} cases checked):",
    ),
    "audit.problem": ("  {label}（{kind}）：{message}", "  {kind}: {message}"),
    "audit.drift": (
        "  办件{case_no}：库中状态 {stored}，按审计事件应为 {audited}",
        "  case {case_no}: stored {stored}, audited {audited}",
    ),
    "audit.more": ("  ……另有 {count} 件（见 --json）", "  ... and {count} more case(s) (see --json)"),
    # calendar
    "calendar.imported": (
        "已导入{year}年：节假日 {holidays} 天，调休上班 {workdays} 天（{source}）",
        "imported {year}: {holidays} holidays, {workdays} adjusted workdays ({source})",
    ),
    "calendar.provisional": (
        "  （暂定：该年度的节假日安排尚未导入）",
        "  (provisional: that year's arrangement is not known)",
    ),
    "arrangement.bad": ("节假日安排无法使用：{detail}", "{detail}"),
    # cases list
    "cases.narrow": (
        "终端较窄，未显示：{columns}（加宽终端或用 --json 查看）",
        "narrow terminal, not shown: {columns} (widen it or use --json)",
    ),
    "cases.unknown_state": (
        "未知的状态：{state!r}（见 window-client cases states）",
        "unknown state {state!r}",
    ),
    "cases.no_document": (
        "{case_no}没有{doc!r}文书；现有：{kinds}",
        "{case_no} has no {doc!r} document; it has: {kinds}",
    ),
    "cases.page_not_saved": ("打印页未能保存：{detail}", "the page could not be saved: {detail}"),
    "cases.warning": ("警告：", "warning: "),
    "cases.supplemented": ("{case_no}：{state}", "{case_no}: {state}"),
    "cases.supplemented_problem": ("{case_no}：{state}（{problem}）", "{case_no}: {state} ({problem})"),
    "cases.terminated": ("已终止 {count} 件{cases}", "terminated {count} case(s){cases}"),
}

# key -> (Chinese labels, English labels): table headers.
LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "batch.columns": (("status", "状态", "行数"), ("status", "状态", "rows")),
    "keys.columns": (
        ("密钥编号", "站点", "来源", "状态", "创建时间"),
        ("key id", "station", "origin", "state", "created"),
    ),
    "sync.refused_columns": (
        ("操作", "办件", "事件", "代码", "原因", "处理办法", "已阅"),
        ("op", "case", "event", "code", "reason", "what to do", "reviewed"),
    ),
}

# The kinds of audit problem (offline_cache.audit, audit_cases, services.audit_trail) in Chinese;
# their detailed message is the JSON report's own, in English.
AUDIT_KIND_ZH: dict[str, str] = {
    "altered": "事件被改动",
    "missing": "事件缺失",
    "truncated": "链尾事件被删除",
    "head_missing": "链头记录缺失",
    "case_event": "办件事件不合流转",
    "unaudited_case": "办件无审计事件",
    "case_missing": "办件已不在库中",
    "case_state": "办件状态与审计事件不符",
    "hall_shorter": "大厅所见事件多于本地",
    "hall_differs": "与大厅所见不符",
    "hall_alarm": "大厅拒收链头",
}
