"""Problems found in input, with their texts in both languages kept in one reviewable table.

The screen shows the Chinese text; the CLI and its reports show the one its ``--lang`` chose
(Chinese unless told otherwise).

The module is long on purpose: it is one table of texts, every problem's Chinese beside its
English, so a reviewer reads (and a translator checks) them all in one place. Splitting it by
topic would scatter that review over files; the code below the table is a few short classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from models.queue_messages import QUEUE_MESSAGES

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
    # Configuration (window_client.services.settings, hall_client.check_server_url, the
    # station code) and holiday arrangements: raised as ProblemValueError, for the office's admin.
    "settings.unreadable": ("配置文件{path}无法读取：{detail}", "{path}: {detail}"),
    "settings.policy": ("配置文件{path}的 [policy] 有误：{detail}", "{path}: [policy] {detail}"),
    "settings.on_unfulfilled": (
        "配置文件{path}：on_unfulfilled 须为 'supervisor' 或 'refuse'",
        "{path}: on_unfulfilled must be 'supervisor' or 'refuse'",
    ),
    "settings.table": ("配置文件{path}：[{section}] 须为一个表", "{path}: [{section}] must be a table"),
    "settings.whole_number": (
        "配置文件{path}：[{section}] {key} 须为 {low} 到 {high} 之间的整数",
        "{path}: [{section}] {key} must be a whole number from {low} to {high}",
    ),
    "settings.timeout": (
        "配置文件{path}：[sync] timeout_seconds 须为 0.1 到 {high} 之间的秒数",
        "{path}: [sync] timeout_seconds must be a number of seconds from 0.1 to {high}",
    ),
    "settings.keymap": (
        "配置文件{path}：[keymap] 应为绑定编号到按键名称（字符串）的对应",
        "{path}: [keymap] maps binding ids to key names (strings)",
    ),
    "settings.idle_lock": (
        "配置文件{path}：idle_lock_minutes 须为数字",
        "{path}: idle_lock_minutes must be a number",
    ),
    "settings.station": (
        "未知的站点代码{code!r}（已知：{known}）",
        "unknown station {code!r} (known: {known})",
    ),
    "server_url.invalid": (
        "大厅服务器地址无效：{url!r}（{detail}）",
        "not a valid server URL: {url!r} ({detail})",
    ),
    "server_url.scheme": (
        "大厅服务器地址须以 http:// 或 https:// 开头（当前为{url!r}）",
        "the server URL must start with http:// or https:// (got {url!r})",
    ),
    "server_url.host": ("大厅服务器地址缺少主机名：{url!r}", "the server URL names no host: {url!r}"),
    "server_url.query": (
        "大厅服务器地址不能带查询参数或片段（?、#）：{url!r}",
        "the server URL must not carry a query or fragment: {url!r}",
    ),
    "arrangement.year": ("{day}不在{year}年内", "{day} is not in {year}"),
    "arrangement.shape": ("不是节假日安排文件：{detail}", "not a holiday arrangement: {detail}"),
    "arrangement.both": (
        "同一天既列为节假日又列为调休上班：{day}",
        "days listed as both holiday and workday: {day}",
    ),
    "arrangement.no_holidays": ("{year}年的安排未列出任何节假日", "the {year} arrangement lists no holidays"),
    "arrangement.source": (
        "节假日安排须注明出处（所依据的通知）",
        "the arrangement must name its source (the published notice)",
    ),
    "arrangement.unreadable": ("无法读取{path}：{detail}", "cannot read {path}: {detail}"),
    "arrangement.object": ("节假日安排文件应为一个 JSON 对象", "an arrangement file holds one JSON object"),
    # Identity checks and 帮办代办 (models.identity_check) and 办事专员.
    "identity.method_unknown": (
        "未知的身份核验方式：{value}（应为身份证原件、电子身份证/电子证照、人脸核验或代办人）",
        "unknown identity check {value} (id_card, e_id, face or agent)",
    ),
    "identity.slip_invalid": (
        "人脸核验须附本办件的身份核验单编号（应为{expected}），收到：{value}",
        "a face check needs this case's 身份核验单 number ({expected}); got {value}",
    ),
    "identity.slip_unexpected": (
        "只有人脸核验才出具身份核验单",
        "only a face check comes with a 身份核验单 number",
    ),
    "identity.agent_missing": (
        "核验方式为代办人时，须填写代办人姓名和身份证号",
        "an agent check needs the agent's name and ID number",
    ),
    "identity.power_of_attorney": (
        "代办人办理须收取申请人的授权委托书",
        "an agent needs the applicant's power of attorney (授权委托书) recorded as presented",
    ),
    "identity.agent_method": (
        "有代办人时，身份核验方式应为“代办人（授权委托书）”",
        "with an agent, the identity check must be agent (with the power of attorney)",
    ),
    "specialist.not_org": (
        "办事专员只能指派给企业（统一社会信用代码）：{code}",
        "a dedicated officer is assigned to an enterprise (a credit code): {code}",
    ),
    "specialist.unknown_staff": (
        "本站没有在岗的工作人员：{staff_no}",
        "no active staff member {staff_no} at this station",
    ),
    "specialist.none": ("该企业没有办事专员：{code}", "enterprise {code} has no dedicated officer"),
    # Batch files (window_client.services.batch_files): the file as a whole, then one row.
    "file.missing": ("找不到文件：{path}", "no such file: {path}"),
    "file.empty": ("文件是空的：第一行须为表头", "the file is empty: it needs a header row"),
    "file.sheet_empty": (
        "第一张工作表是空的：第一行须为表头",
        "the first sheet is empty: it needs a header row",
    ),
    "file.header_unreadable": ("表头无法读取：{detail}", "the header row cannot be read: {detail}"),
    "file.columns_missing": ("缺少列：{columns}", "missing column(s): {columns}"),
    "file.columns_unknown": (
        "未知的列：{columns}（应为：{expected}）",
        "unknown column(s): {columns} (expected: {expected})",
    ),
    "file.columns_duplicated": ("列重复：{columns}", "duplicated column(s): {columns}"),
    "file.encoding_unknown": (
        "文件既不是UTF-8也不是GBK编码：请另存为UTF-8 CSV后重试",
        "the file is neither UTF-8 nor GBK text: save it as UTF-8 CSV and try again",
    ),
    "file.encoding_bom": (
        "文件以UTF-8标记开头，但第{line}行不是UTF-8（GBK？）：请将整个文件另存为UTF-8后重试",
        "the file starts with a UTF-8 byte order mark but line {line} is not UTF-8 (GBK?): save the"
        " whole file as UTF-8 and try again",
    ),
    "file.encoding_mixed": (
        "文件混用了编码：第{utf8_line}行是UTF-8，第{other_line}行不是（GBK？）：请将整个文件另存为"
        "同一种编码（UTF-8）后重试",
        "the file mixes encodings: line {utf8_line} is UTF-8 but line {other_line} is not (GBK?):"
        " save the whole file in one encoding (UTF-8) and try again",
    ),
    "file.changed": (
        "读取期间文件被改动（已不再是{encoding}编码）",
        "the file changed while it was read (not {encoding} any more)",
    ),
    "file.xlsx_unreadable": (
        "不是可读取的XLSX工作簿（文件不完整或已损坏？）：{detail}",
        "not a readable XLSX workbook (truncated or corrupt?): {detail}",
    ),
    "file.xlsx_damaged": ("XLSX工作簿已损坏：{detail}", "the XLSX workbook is damaged: {detail}"),
    "file.no_json_lines": ("文件中没有JSON行", "the file has no JSON lines"),
    "row.csv_malformed": ("CSV格式错误：{detail}", "malformed CSV: {detail}"),
    "row.field_count": ("应有{expected}个字段，实有{found}个", "expected {expected} fields, found {found}"),
    "row.extra_values": (
        "在{count}个命名列之外还有数据",
        "values beyond the {count} named columns",
    ),
    "row.numeric_id_cell": (
        "applicant_id是数字单元格：电子表格只保留数字的15位，18位证件号码可能已被改动；请将该列设为"
        "文本格式后重新输入证件号码",
        "applicant_id is a number cell: a spreadsheet keeps only 15 digits of a number, so an"
        " 18-character ID may already have changed; format the column as text and type the ID again",
    ),
    "row.numeric_id_json": (
        "applicant_id是JSON数字：请把证件号码写成文本（字符串）",
        "applicant_id is a JSON number: write the ID as text (a string)",
    ),
    "row.json_invalid": ("不是有效的JSON：{detail}", "not valid JSON: {detail}"),
    "row.json_too_deep": ("该JSON行嵌套过深", "the JSON line is nested too deeply"),
    "row.json_not_object": ("每一行须为一个JSON对象", "each line must be a JSON object"),
    "row.json_unknown_keys": ("未知的键：{keys}", "unknown key(s): {keys}"),
    "row.json_materials": (
        "materials须为材料编码（文本）的列表",
        "materials must be a list of material codes (text)",
    ),
    "row.json_not_text": (
        "{key}须为文本，不能是JSON{kind_zh}",
        "{key} must be text, not a JSON {kind}",
    ),
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
    # Unified certificates (统一出证), handover (领取/寄递), keys and verification
    "cert.not_approved": (
        "办件{case_no}当前状态为“{state}”，办结（准予）后方可出证",
        "case {case_no} is {state_code}: only an approved case can be issued its certificate",
    ),
    "cert.already_issued": (
        "办件{case_no}已出证（{identifier}），不能重复出证",
        "case {case_no} already has its certificate {identifier}: issuing twice is refused",
    ),
    "cert.no_type": (
        "事项“{item}”不产生证照，请直接办理领取",
        "item {item} results in no certificate: hand out its result without one",
    ),
    "cert.ambiguous_type": (
        "多个办件对应不同证照类型（{types}），请分别出证",
        "the cases result in different certificate types ({types}): issue them separately",
    ),
    "cert.holders_differ": (
        "合并出证的办件须为同一申请人",
        "cases issued one certificate together must have the same applicant",
    ),
    "cert.duplicate_case": ("办件{case_no}重复列出", "case {case_no} is listed twice"),
    "cert.unknown": ("找不到证照：{ref}", "no such certificate: {ref}"),
    "cert.several": (
        "办件{case_no}有多个证照，请指定证照标识：{identifiers}",
        "case {case_no} has several certificates; name one: {identifiers}",
    ),
    "cert.valid_years": (
        "有效期年数须在0（长期有效）到{limit}之间",
        "the validity must be 0 (long-term) to {limit} years",
    ),
    "cert.sequence_exhausted": (
        "本站证照流水号已用尽",
        "this station has used up its certificate serial numbers",
    ),
    "cert.issuer_missing": (
        "本站点未配置颁发机构代码（统一社会信用代码）",
        "this station has no issuing authority code (统一社会信用代码) in the catalogue",
    ),
    "cert.revoked": (
        "证照{identifier}已撤销，不能{action}",
        "certificate {identifier} is revoked: cannot {action_en}",
    ),
    "cert.already_revoked": (
        "证照{identifier}已于{at}撤销",
        "certificate {identifier} was already revoked on {at}",
    ),
    "cert.remote": (
        "证照{identifier}由其他站点颁发，本站不能{action}",
        "certificate {identifier} was issued elsewhere: this station cannot {action_en}",
    ),
    "cert.partner_issues": (
        "办件{case_no}为跨区通办（异地收件），证照由{partner}出具，同步后在本窗口交付",
        "case {case_no} is handled by partner hall {partner} (跨区通办): it issues the certificate,"
        " which arrives with a sync to be handed over here",
    ),
    "cert.reason_empty": ("请填写撤销原因", "a revocation needs a reason"),
    "cert.not_supervisor": ("撤销证照须由值班长操作", "only a supervisor can revoke a certificate"),
    "handover.already": (
        "证照{identifier}已于{at}交付（{how}）",
        "certificate {identifier} was already handed over on {at} ({how_en})",
    ),
    "handover.not_holder": (
        "领取人证件号码与持证人不符；他人代领请选择“代领”",
        "the collector's ID is not the holder's: use --agent when someone collects for the holder",
    ),
    "handover.org_agent": (
        "单位证照须由经办人代领（请选择“代领”并核验经办人身份证）",
        "an organisation's certificate is collected by an agent: use --agent with the agent's ID",
    ),
    "handover.tracking": (
        "快递单号格式不正确（8至30位字母或数字）",
        "the mail tracking number must be 8 to 30 letters or digits",
    ),
    "handover.how": (
        "请选择本人领取、代领或寄递之一",
        "give either a collector (--collector-id, --collector-name) or --mail, not both",
    ),
    "key.none": ("本站尚无签章密钥（首次出证时自动生成）", "this station has no signing key yet"),
    # The station secret that seals the signing keys (window_client.services.key_vault).
    "key.secret_missing": (
        "找不到本站签章密钥的保护口令（{where}），无法出证或更换密钥；请恢复本站原有的 station.secret"
        "文件或设置 WINDOW_CLIENT_STATION_SECRET，并联系系统管理员。未生成新密钥，数据未受影响",
        "the station secret that protects this station's signing keys is missing ({where}): restore"
        " the station's station.secret or set WINDOW_CLIENT_STATION_SECRET; no new key was generated",
    ),
    "key.secret_wrong": (
        "本站签章密钥的保护口令不正确（{where}），无法解开签章密钥；请使用本站原有的口令，并联系"
        "系统管理员。未生成新密钥，数据未受影响",
        "the station secret ({where}) does not open this station's signing keys: use the station's"
        " original secret; no new key was generated",
    ),
    "key.secret_unreadable": (
        "无法读取本站签章密钥的保护口令文件{path}（{reason}），请联系系统管理员",
        "cannot use the station secret file {path}: {reason}",
    ),
    "key.secret_exposed": (
        "本站签章密钥的保护口令文件{path}其他用户也能读取（权限{mode}），已拒绝使用；请执行"
        " chmod 600 后重试，并联系系统管理员",
        "the station secret file {path} may be read by other users (mode {mode}): run chmod 600 on it",
    ),
    "cert.verify.valid": ("证照有效，签章完好", "the certificate is valid and its seal intact"),
    "cert.verify.empty": ("未读到二维码内容", "no QR text was given"),
    "cert.verify.not_ours": (
        "不是电子证照二维码（应为一串数字，或以ZZ1:开头）",
        "not a certificate QR text (digits, or a text starting with ZZ1:; got {head!r})",
    ),
    # The ZZ2 text: decimal digits (models.certificates.qr_compact).
    "cert.verify.digits_charset": (
        "二维码内容含有不允许的字符",
        "the QR text has characters outside its alphabet (digits 0-9)",
    ),
    "cert.verify.digits_truncated": (
        "二维码内容不完整（被截断）",
        "the QR text is truncated: {got} digits, a certificate has at least {expected}",
    ),
    "cert.verify.digits_too_long": (
        "二维码内容过长，不是电子证照二维码",
        "the QR text is too long for a certificate: {got} digits (at most {limit})",
    ),
    "cert.verify.digits_check": (
        "二维码数字校验不符：内容不完整或有误（可能被截断或抄错）",
        "the QR digits fail their check digits: truncated or mistyped",
    ),
    "cert.verify.digits": (
        "二维码数字不完整或有误（可能被截断或抄错）",
        "the QR digits do not decode to a certificate: truncated or mistyped",
    ),
    "cert.verify.type_ref": (
        "站点{station}无权出具该类证照（类型引用{ref}不在本机事项目录中，请同步后再验）",
        "station {station} issues no certificate type with reference {ref} here (sync, then verify)",
    ),
    "cert.verify.version": (
        "二维码格式版本{version}不受支持，请升级客户端",
        "QR format version {version} is not supported by this client",
    ),
    "cert.verify.charset": (
        "二维码内容含有不允许的字符",
        "the QR text has characters outside its alphabet (A-Z, 2-7)",
    ),
    "cert.verify.noncanonical": (
        "二维码内容末尾被改动，无法识别",
        "the QR text's last character was changed (not a canonical encoding)",
    ),
    "cert.verify.truncated": (
        "二维码内容不完整（被截断）",
        "the QR text is truncated: {got} bytes where {expected} were declared",
    ),
    "cert.verify.trailing": ("二维码内容末尾有多余数据", "the QR text has extra data after its signature"),
    "cert.verify.content": (
        "证照内容已被篡改，无法解析",
        "the content was altered: it no longer reads as a certificate",
    ),
    "cert.verify.signature": (
        "签章与内容不符：内容被篡改，或签章取自其他证照",
        "the seal does not match the content: altered, or a seal taken from another certificate",
    ),
    "cert.verify.unknown_key": (
        "签章密钥{key_id}未知：请同步后再验，仍未知则为伪造",
        "unknown signing key {key_id}: sync to fetch the published keys; if still unknown, it is forged",
    ),
    "cert.verify.key_revoked": (
        "签章密钥{key_id}已于{at}吊销，其签发的证照均不再有效",
        "the signing key {key_id} was revoked on {at}: nothing it sealed is valid",
    ),
    "cert.verify.revoked": ("证照已于{at}撤销：{reason}", "the certificate was revoked on {at}: {reason}"),
    "cert.verify.expired": ("证照已于{valid_until}到期", "the certificate expired after {valid_until}"),
    "cert.key_invalid": (
        "密钥{key_id}无效：标识与公钥不符或持有证明验证失败",
        "key {key_id} is invalid: its id does not match the key, or its proof of possession fails",
    ),
    "cert.key_unknown": ("未登记的签章密钥：{key_id}", "no registered signing key {key_id}"),
    "cert.identifier_invalid": (
        "证照标识格式不正确：{identifier}",
        "not a GB/T 36904 certificate identifier: {identifier}",
    ),
    "cert.verify.not_record": (
        "文件中没有证照二维码或证照记录",
        "the input holds neither a certificate QR text nor a certificate record",
    ),
    # The identifier must be one the sealing key's station may issue (models.seal binding rule).
    "cert.verify.station_unknown": (
        "签章密钥所属站点{station}不在事项目录中，无法确认其出证资格",
        "the signing key's station {station} is not in the catalogue: it may issue nothing",
    ),
    "cert.verify.serial_station": (
        "证照流水号{serial}不属于签章站点{station}：签章站点不能出具其他站点的证照",
        "the serial {serial} is not one of station {station}, whose key sealed it: a forgery",
    ),
    "cert.verify.issuer": (
        "发证机构代码{issuer_code}不是站点{station}的发证机构代码（应为{expected}）",
        "issuer code {issuer_code} is not station {station}'s issuing authority ({expected})",
    ),
    "cert.verify.type": (
        "站点{station}无权出具该类证照（类型代码{type_code}）",
        "station {station} accepts no item that issues certificate type {type_code}",
    ),
    "cert.verify.record_station": (
        "证照记录所载出证站点{claimed}与签章站点{station}不符",
        "the record names station {claimed} but the key that sealed it is station {station}'s",
    ),
    "cert.key_unapproved": (
        "登记签章密钥须经本站值班长或管理员批准",
        "registering a signing key needs a supervisor of its station or an admin"
        " (their sign-in, or their signed approval)",
    ),
    "cert.key_needs_approval": (
        "本站尚无经值班长批准的签章密钥：请值班长登录确认后再出证",
        "this station has no supervisor-approved signing key: a supervisor must approve one"
        " (set WINDOW_CLIENT_USER/WINDOW_CLIENT_PASSWORD to a supervisor, or run `keys rotate` as one)",
    ),
    "cert.not_key_approver": (
        "{staff_no}不是本站值班长或管理员，不能批准签章密钥",
        "{staff_no} is not a supervisor of this station nor an admin: cannot approve a signing key",
    ),
    "cert.revoke_other_station": (
        "证照{identifier}由站点{station}出具，须由该站点值班长或管理员撤销",
        "certificate {identifier} was issued by station {station}: only its supervisor or an admin"
        " may revoke it",
    ),
    "cert.not_issued_yet": (
        "总台尚未收到证照{identifier}的出证记录，站点不能提前撤销",
        "the hall has not seen certificate {identifier} issued: a station cannot revoke it in advance",
    ),
    # Hall server: refusals of pushed operations (the reason is shown to staff) and HTTP errors.
    "case.exists": (
        "办件编号{case_no}已被另一受理操作使用",
        "case number {case_no} is already held by another accept operation",
    ),
    "case.conflict": (
        "办件{case_no}的“{event}”未生效：{cause}",
        "case {case_no}: '{event_code}' did not take effect: {cause_en}",
    ),
    "case.needs_supervisor": (
        "终止办件{case_no}须经值班长批准",
        "terminating case {case_no} needs a supervisor's signed approval",
    ),
    "case.not_overdue": (
        "办件{case_no}不能按“补正逾期”终止：{why}",
        "case {case_no} cannot be terminated as a late 补正: {why_en}",
    ),
    "case.back_office_only": (
        "办件{case_no}为承诺件，“{event}”由后台审批决定，窗口不能办结",
        "case {case_no} is a promised item: only the back office decides '{event_code}'",
    ),
    "accept.invalid": (
        "办件{case_no}的受理信息未通过大厅校验：{problem}",
        "case {case_no}: the acceptance fails the hall's checks: {problem_en}",
    ),
    "accept.inconsistent": (
        "办件{case_no}的受理结论（{state}）与所交材料不符：{why}",
        "case {case_no}: state {state} does not follow from the materials presented: {why_en}",
    ),
    "accept.needs_approval": (
        "办件{case_no}超出容缺规定（{why}），须附值班长的签名批准，仅填写审批人工号不予认可",
        "case {case_no} is tolerated beyond policy ({why_en}): it needs a supervisor's signed"
        " approval, a name alone does not count",
    ),
    "case.number_invalid": (
        "办件编号{case_no}无效：{why}",
        "invalid case number {case_no}: {why_en}",
    ),
    "accept.date_invalid": (
        "{field}不是有效日期：{value}",
        "{field_en} is not a date (YYYY-MM-DD): {value}",
    ),
    "accept.date_missing": ("缺少{field}", "{field_en} is missing"),
    "accept.date_unexpected": ("该受理结论不应有{field}", "{field_en} does not belong to this state"),
    "accept.date_range": (
        "{field}为{value}，按事项时限应在{earliest}至{latest}之间",
        "{field_en} is {value}; the item's limits give {earliest} to {latest}",
    ),
    "station.unknown": ("事项目录中没有站点{station}", "the catalogue lists no station {station}"),
    "op.mismatch": (
        "操作{op_id}曾以不同内容提交，本次未处理",
        "operation {op_id} was received before with a different body",
    ),
    "op.invalid": (
        "操作内容无效：字段{field}缺失或格式错误",
        "invalid operation: field {field} is missing or malformed",
    ),
    "op.unsafe_text": (
        "操作内容无效：字段{field}含有控制字符或文字方向控制符（{char}）",
        "invalid operation: field {field} holds a control or text-direction character ({char})",
    ),
    "auth.missing": ("未登录：请求缺少访问令牌", "no bearer token: sign in first"),
    "auth.invalid": ("工号、密码或访问令牌无效", "invalid staff number, password or token"),
    "token.expired": ("登录已过期，请重新登录", "the token has expired: sign in again"),
    "auth.locked": (
        "工号{staff_no}登录失败次数过多，已被大厅锁定，请{minutes}分钟后再试或请管理员解锁",
        "too many failed sign-ins for {staff_no}: locked at the hall for {minutes} more minute(s)"
        " (the back office can lift it: hall-server staff unlock {staff_no})",
    ),
    "auth.throttled": (
        "本机登录失败次数过多，大厅已暂停本机登录，请{minutes}分钟后再试",
        "too many failed sign-ins from this address: try again in {minutes} minute(s)",
    ),
    "auth.forbidden": ("无权执行此操作：{why}", "forbidden: {why_en}"),
    # 跨区通办: hall-to-hall requests and forwarded cases
    "hall.no_identity": (
        "本大厅尚未设置身份密钥（hall-server key init）",
        "this hall has no identity key yet (hall-server key init)",
    ),
    "partner.unsigned": ("请求未注明发送大厅，未签名", "the request names no sending hall: it is not signed"),
    "partner.unknown": ("{partner}不是本大厅的合作大厅", "{partner} is not a partner of this hall"),
    "partner.signature": (
        "来自{partner}的请求签名无效或已过期，未予处理",
        "the request from {partner} is not signed with its key on file (or too old): nothing was done",
    ),
    "partner.misaddressed": (
        "该请求发往{to}，不是本大厅",
        "the request is addressed to {to}, not to this hall",
    ),
    "crosshall.unknown_item": (
        "跨区转办被{partner}拒收：对方事项目录中没有对应的通办事项{item}",
        "{partner} refused the forwarded case: its catalogue has no 通办 item {item} for this hall",
    ),
    "crosshall.case_exists": (
        "跨区转办被{partner}拒收：对方已有编号为{case_no}的另一办件",
        "{partner} refused the forwarded case: it already holds another case numbered {case_no}",
    ),
    "crosshall.invalid": ("跨区通办消息内容无效：{detail}", "the 跨区通办 message is not valid: {detail}"),
    "crosshall.not_forwarded": (
        "办件{case_no}不是本大厅转办给{partner}的办件",
        "case {case_no} was not forwarded by this hall to {partner}",
    ),
    "crosshall.certificate_invalid": (
        "{partner}出具的证照{identifier}未通过核验：{why}",
        "the certificate {identifier} from {partner} does not verify: {why_en}",
    ),
    "crosshall.unknown_kind": ("无法处理的跨区通办消息类型：{kind}", "unknown 跨区通办 message kind: {kind}"),
    "request.malformed": ("请求内容不是有效的JSON", "the request body is not valid JSON"),
    "request.invalid": ("请求内容不符合接口要求：{detail}", "invalid request: {detail}"),
    "request.too_large": (
        "请求过大（最多{limit}字节）",
        "the request body is too large (at most {limit} bytes)",
    ),
    "request.not_found": ("找不到请求的资源", "no such resource"),
    "request.bad_http": ("请求不是有效的HTTP请求", "the request is not valid HTTP"),
    "holidays.unknown": (
        "{year}年的节假日安排尚未发布",
        "no holiday arrangement has been published for {year}",
    ),
    "server.error": ("服务器内部错误，请稍后重试", "internal server error; try again later"),
    # Sync with the hall server
    "sync.stale": (
        "本站已超过{days}天未与大厅同步（上次同步：{since}；规定最长{limit}天），暂停受理新办件；"
        "请先同步，已有数据仍可查看",
        "this station has not synced with the hall for more than {days} days (last sync {since};"
        " the policy allows {limit}): new cases are refused until it syncs (run `window-client sync`)",
    ),
    "sync.stale_never": (
        "本站自{since}建库以来从未与大厅同步，已超过{days}天（规定最长{limit}天），暂停受理新办件；"
        "请先同步，已有数据仍可查看",
        "this station has never synced with the hall since its store was created {since}, more than"
        " {days} days ago (the policy allows {limit}): new cases are refused until it syncs"
        " (run `window-client sync`)",
    ),
    "sync.unreachable": (
        "无法连接大厅服务器，已转入离线工作，{seconds}秒后自动重试",
        "cannot reach the hall server; working offline, retrying in {seconds} s",
    ),
    "sync.auth_required": (
        "与大厅的登录已失效（{code}），请重新登录后继续同步；未同步的操作均已保留",
        "the hall server needs a new sign-in ({code}); sign in again to resume (nothing was lost)",
    ),
    "sync.server_error": (
        "大厅服务器出错（{code}），{seconds}秒后自动重试",
        "the hall server reported an error ({code}: {message}); retrying in {seconds} s",
    ),
    "sync.protocol": (
        "大厅服务器的应答无法识别，{seconds}秒后自动重试；如持续出现请联系系统管理员",
        "the hall server's answer could not be understood ({message}); retrying in {seconds} s",
    ),
    "sync.refused_locally": (
        "大厅拒收该操作（{code}）：{message}",
        "the hall server rejected the operation ({code}): {message}",
    ),
    "audit.rewound": (
        "审计记录回退：大厅已见到本站第{expected}条记录，本次只到第{seq}条（记录可能被删除或从旧备份恢复），已报告大厅后台",
        "the audit trail went back: the hall saw event {expected} of this station, this push only"
        " reaches {seq} (events deleted, or the store restored from an old backup); reported to the"
        " hall's back office",
    ),
    "audit.rewritten": (
        "审计记录与大厅所见不一致：第{expected}条不同（记录可能被改写），已报告大厅后台",
        "the audit trail differs from what the hall saw at event {expected} (it was rewritten);"
        " reported to the hall's back office",
    ),
    "audit.unlinked": (
        "审计记录无法与大厅所见（第{expected}条）衔接，已报告大厅后台",
        "the audit trail cannot be tied to what the hall saw (event {expected});"
        " reported to the hall's back office",
    ),
    "audit.bad_seal": (
        "审计记录链头的签章无效，大厅未采信，已报告大厅后台",
        "the seal of the audit head does not hold; reported to the hall's back office",
    ),
    "sync.audit_alarm": ("大厅审计告警：{reason}", "the hall raised an audit alarm: {reason}"),
    "sync.unknown_refused": ("找不到被拒收的操作：{op_id}", "no refused operation {op_id}"),
    "sync.sign_in_refused": (
        "大厅未接受离线登录时的密码（{reason}），同步已暂停；请重新登录，未同步的操作均已保留",
        "the hall did not accept the password of the offline sign-in ({reason}); sync is paused"
        " until staff sign in again (nothing was lost)",
    ),
    # 好差评 (models.rating) and 差评整改 (models.rectification)
    "rating.level": (
        "评价等级须为1至5（5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意），收到：{level}",
        "the rating level must be 1 to 5 (5 very satisfied … 1 very dissatisfied), got {level}",
    ),
    "rating.reasons_required": (
        "“{level}”须至少选择一项原因：服务态度、服务效率、服务水平、办事指南、其他",
        "a rating of {level} needs at least one reason: attitude, efficiency, skill, guide, other",
    ),
    "rating.reasons_unexpected": (
        "“{level}”不选择原因：原因只用于不满意或非常不满意的评价",
        "a rating of {level} takes no reasons (they are for dissatisfied ratings only)",
    ),
    "rating.reason_unknown": (
        "未知的评价原因：{reason}（可选：服务态度、服务效率、服务水平、办事指南、其他）",
        "unknown reason {reason} (choose attitude, efficiency, skill, guide or other)",
    ),
    "rating.exists": (
        "办件{case_no}已在“{channel}”评价过（{what}），每个渠道只能评价一次",
        "case {case_no} was already rated through the {channel_en} ({what_en}); one rating per channel",
    ),
    "rating.code_unknown": (
        "评价码{code}无效：本站没有对应的办件，请核对回执上的评价码",
        "evaluation code {code} matches no case of this station; check the code on the receipt",
    ),
    "rating.date": (
        "评价日期{on}无效：{why}",
        "the rating date {on} is not possible: {why_en}",
    ),
    "rectification.unknown": ("找不到整改记录：{id}", "no such rectification record: {id}"),
    "rectification.step": (
        "整改记录{id}当前为“{state}”，不能{step}",
        "rectification record {id} is {state_en}: cannot {step_en} it now",
    ),
    "rectification.forbidden": ("{staff}不能{step}：{why}", "{staff} may not {step_en} it: {why_en}"),
    "rectification.staff": (
        "工号{staff}不是有效的大厅账号（或不属于站点{station}）",
        "{staff} is not an active hall account (of station {station})",
    ),
}
MESSAGES.update(QUEUE_MESSAGES)  # 排队叫号 (models.queue_messages)


Language = Literal["zh", "en"]  # which of a problem's texts a front end shows


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

    def text(self, language: Language) -> str:
        """The text in ``language`` (the CLI's ``--lang``)."""
        return self.zh() if language == "zh" else self.en()


class ProblemValueError(ValueError):
    """Unusable configuration or input named by a :class:`Problem`: ``str()`` is the English
    text (logs, the office's admin, as before), :meth:`zh` and :meth:`en` for a front end that
    chose its language."""

    def __init__(self, message_code: str, /, **params: Any) -> None:
        self.problem = Problem(message_code, params)
        super().__init__(self.problem.en())

    def zh(self) -> str:
        """The Chinese text."""
        return self.problem.zh()

    def en(self) -> str:
        """The English text."""
        return self.problem.en()


class DomainError(Exception):
    """A refused operation carrying a :class:`Problem`; never a crash."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.en())
        self.problem = problem

    @classmethod
    def of(cls, message_code: str, /, **params: Any) -> DomainError:
        """Build the error from a message code and its parameters."""
        return cls(Problem(message_code, params))
