"""One row of a batch file as an acceptance request: the text of its cells checked and turned
into an :class:`AcceptanceRequest`, with the row's own problems collected, never raised."""

from __future__ import annotations

from models.enums import ApplicantType, Channel, MaterialStatus
from models.identity_check import DEFAULT_CHECK, IdentityCheck, IdentityMethod, parse_method
from models.problems import Problem
from window_client.services.acceptance import FIELD_LIMIT, AcceptanceRequest, Applicant
from window_client.services.batch_files import ALL_COLUMNS, RawRow, unquote

_APPLICANT_TYPES = {t.value: t for t in ApplicantType}  # a lookup, not ApplicantType(text)
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否", ""}
_CHECKS = {method: IdentityCheck(method) for method in IdentityMethod}  # one shared value each


def parse_row(raw: RawRow, file_digest: str) -> tuple[AcceptanceRequest | None, list[Problem]]:
    """Turn the text of a row into a request; field-level problems are collected, not raised."""
    if raw.error:
        return None, [raw.error]
    values = raw.values
    v = {k: values.get(k) or "" for k in ALL_COLUMNS}
    for k, text in v.items():
        if text[:1] == "'":  # only such a value can carry the rejects file's protecting quote
            v[k] = unquote(text)
    problems: list[Problem] = []
    for name in ("item_code", "applicant_type", "applicant_id", "applicant_name"):
        if not v[name].strip():
            problems.append(Problem("field.required", {"field": name}))
    for name in ("item_code", "applicant_type", "commitment", "external_ref", "identity", "materials"):
        if len(v[name]) > FIELD_LIMIT * (10 if name == "materials" else 1):
            problems.append(Problem("field.too_long", {"field": name, "limit": FIELD_LIMIT}))
            v[name] = ""
    type_text = v["applicant_type"].strip().lower()
    applicant_type = _APPLICANT_TYPES.get(type_text)
    if applicant_type is None:
        if type_text:
            problems.append(Problem("field.invalid", {"field": "applicant_type", "value": type_text[:40]}))
        applicant_type = ApplicantType.PERSON
    commitment_text = v["commitment"].strip().lower()
    if commitment_text not in _YES | _NO:
        problems.append(Problem("field.invalid", {"field": "commitment", "value": commitment_text[:40]}))
    method = parse_method(v["identity"])
    if method is None:
        problems.append(Problem("identity.method_unknown", {"value": v["identity"].strip()[:40]}))
    codes = [c.strip() for c in v["materials"].replace("；", ";").split(";") if c.strip()]
    ref = v["external_ref"].strip()
    key = f"ref:{ref}" if ref else f"file:{file_digest[:24]}:{raw.number}"
    if problems and any(p.code == "field.required" and p.params["field"] == "item_code" for p in problems):
        return None, problems
    request = AcceptanceRequest(
        entry_code=v["item_code"].strip(),
        applicant=Applicant(
            type=applicant_type,
            id=v["applicant_id"],
            name=v["applicant_name"],
            phone=v["phone"].strip(),
        ),
        presented=dict.fromkeys(codes, MaterialStatus.PRESENTED),
        commitment=commitment_text in _YES,
        channel=Channel.BATCH,
        dedupe_key=key,
        identity=_CHECKS[method] if method else DEFAULT_CHECK,
    )
    return request, problems
