"""``window-client evaluate`` and ``window-client ratings``: 好差评 from scripts, the evaluator
pad and the station's report.

Contracts (README, "Contracts"):

- ``window-client evaluate CASE_NO --level N [--reason R]... [--text T] [--json]`` records the
  rating through the window's evaluator pad (channel ``pad``); ``--code CODE`` instead of the
  case number takes the code printed on the 受理回执 (channel ``code``); ``--decline`` records
  未评价. Exit 0 recorded; 1 refused (already rated, unknown case or code: the message says
  which); 2 bad usage (level out of range, a 差评 without a reason, text with control
  characters …). Nothing is written unless it exits 0.
- ``window-client evaluate --window N``: the evaluator pad, a small full-screen app that follows
  window N live (run it in a second terminal facing the applicant).
- ``window-client ratings report [--from D] [--to D] --json`` →
  ``{"counts": {"5": n, …, "1": n}, "unrated": n, "good_rate": x, …}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from models.problems import DomainError
from models.rating import CHANNEL_ZH, LEVEL_ZH, LEVELS, RatingChannel
from window_client.cli.common import EXIT_FAILED, EXIT_USAGE, err, out, print_json, runtime, shown
from window_client.cli.lang import current, problem_text, say
from window_client.services.ratings import RatingRecord
from window_client.services.runtime import parse_day

app = typer.Typer(help="好差评: the station's ratings report and evaluation codes.", no_args_is_help=True)

# Refusals of a well-formed request (exit 1); any other problem is bad usage (exit 2).
REFUSALS = frozenset({"case.unknown", "rating.exists", "rating.code_unknown", "rating.date"})

# key -> (Chinese, English): what only these commands print.
TEXT: dict[str, tuple[str, str]] = {
    "recorded": (
        "已记录：办件{case_no}，{channel}，{level}",
        "recorded: {case_no}, {channel_en}, {level_en}",
    ),
    "one_target": (
        "请给出办件编号、--code 评价码或 --window 窗口号中的一项",
        "give exactly one of CASE_NO, --code CODE or --window N",
    ),
    "level_required": (
        "请用 --level 1至5 给出评价等级，或用 --decline 记录未评价",
        "give --level 1-5, or --decline",
    ),
    "level_and_decline": ("--level 与 --decline 不能同时使用", "--level and --decline exclude each other"),
    "pad_options": (
        "--window 启动评价器，不能与 --level、--reason、--text、--decline 同用",
        "--window starts the evaluator pad: it takes no --level, --reason, --text or --decline",
    ),
    "window": ("窗口号须为1至3位数字：{value}", "the window is 1 to 3 digits: {value}"),
    "good_rate": ("好评率", "good rate"),
    "unrated": ("未评价", "unrated"),
    "level": ("评价", "level"),
    "count": ("数量", "count"),
}


def _say(key: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (zh if current() == "zh" else en).format(**params)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]{say('error')}[/]{shown(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _refused(exc: DomainError) -> NoReturn:
    _fail(problem_text(exc.problem), EXIT_FAILED if exc.problem.code in REFUSALS else EXIT_USAGE)


def window_number(raw: str) -> str:
    """A window number as the store keeps it (``1`` → ``01``)."""
    text = raw.strip()
    if not text.isdigit() or not 1 <= len(text) <= 3:
        _fail(_say("window", value=raw[:20]), EXIT_USAGE)
    return text.zfill(2)


CaseArgument = Annotated[str | None, typer.Argument(help="The case number.", show_default=False)]
LevelOption = Annotated[
    int | None, typer.Option("--level", help="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.")
]
ReasonOption = Annotated[
    list[str] | None,
    typer.Option(
        "--reason",
        help="For level 2 or 1 (at least one): attitude 服务态度, efficiency 服务效率, skill 服务水平,"
        " guide 办事指南, other 其他. Repeat for several.",
    ),
]
TextOption = Annotated[str | None, typer.Option("--text", help="The applicant's own words (with a 差评).")]
CodeOption = Annotated[str | None, typer.Option("--code", help="The evaluation code on the 受理回执.")]
WindowOption = Annotated[
    str | None, typer.Option("--window", help="Run the evaluator pad following this window.", metavar="N")
]
DeclineOption = Annotated[bool, typer.Option("--decline", help="Record 未评价: the applicant declined.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TodayOption = Annotated[
    str | None, typer.Option("--today", help="The day YYYY-MM-DD (tests).", metavar="DATE")
]


def evaluate(
    case_no: CaseArgument = None,
    level: LevelOption = None,
    reason: ReasonOption = None,
    text: TextOption = None,
    code: CodeOption = None,
    window: WindowOption = None,
    decline: DeclineOption = False,
    json_output: JsonOption = False,
    today: TodayOption = None,
) -> None:
    """好差评: record the applicant's rating of a case (exit 0 recorded, 1 refused, 2 bad usage),
    or with --window N run the evaluator pad that follows window N."""
    if sum(x is not None for x in (case_no, code, window)) != 1:
        _fail(_say("one_target"), EXIT_USAGE)
    if window is not None:
        if level is not None or reason or text is not None or decline:
            _fail(_say("pad_options"), EXIT_USAGE)
        _run_pad(window_number(window), today)
        return
    if level is None and not decline:
        _fail(_say("level_required"), EXIT_USAGE)
    if level is not None and decline:
        _fail(_say("level_and_decline"), EXIT_USAGE)
    with runtime() as rt:
        day = parse_day(today)
        try:
            if decline:
                target = case_no if case_no is not None else rt.ratings.case_of_code(code or "")
                record = rt.ratings.decline(target, _channel(code), on=day)
            elif code is not None:
                assert level is not None
                record = rt.ratings.record_by_code(code, level, reason or (), text, on=day)
            else:
                assert level is not None and case_no is not None
                record = rt.ratings.record(case_no, level, reason or (), text, on=day)
        except DomainError as exc:
            _refused(exc)
    _print_record(record, json_output)


def _channel(code: str | None) -> RatingChannel:
    return RatingChannel.CODE if code is not None else RatingChannel.PAD


def _print_record(record: RatingRecord, json_output: bool) -> None:
    if json_output:
        print_json({"status": "recorded", **record.to_dict()})
        return
    level_en = "declined" if record.level is None else f"level {record.level}"
    out.print(
        shown(
            _say(
                "recorded",
                case_no=record.case_no,
                channel=CHANNEL_ZH[record.channel],
                channel_en=record.channel,
                level=record.level_zh,
                level_en=level_en,
            )
        )
    )


def _run_pad(window: str, today: str | None) -> None:
    """The evaluator pad (Textual, imported only here)."""
    from window_client.tui.evaluator_pad import run_pad

    with runtime("pad") as rt:
        day = parse_day(today) if today else None
        run_pad(rt, window, (lambda: day) if day else None)


def _date_option(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: {value[:20]} (YYYY-MM-DD)", EXIT_USAGE)


@app.command("report")
def report(
    first: Annotated[str | None, typer.Option("--from", help="First acceptance day (YYYY-MM-DD).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last acceptance day (YYYY-MM-DD).")] = None,
    json_output: JsonOption = False,
) -> None:
    """好差评 of the cases accepted from --from to --to: counts per level, unrated, 好评率
    ((非常满意+满意+基本满意) / rated), per window, staff member and item, and the 差评."""
    start, end = _date_option(first, "--from"), _date_option(last, "--to")
    with runtime() as rt:
        try:
            found = rt.ratings.report(start, end)
        except DomainError as exc:
            _refused(exc)
    if json_output:
        print_json(found)
        return
    table = Table(_say("level"), _say("count"))
    for level in LEVELS:
        table.add_row(f"{level} {LEVEL_ZH[level]}", str(found["counts"][str(level)]))
    table.add_row(_say("unrated"), str(found["unrated"]))
    rate = found["good_rate"]
    table.add_row(_say("good_rate"), "—" if rate is None else f"{rate:.2%}")
    out.print(table)
    for row in found["by_window"]:
        rate = row["good_rate"]
        shown_rate = "—" if rate is None else f"{rate:.2%}"
        out.print(shown(f"{row['station']}/{row['window']}: {row['rated']} / {row['cases']}  {shown_rate}"))


@app.command("code")
def code_of(
    case_no: Annotated[str, typer.Argument(help="The case number.")],
    json_output: JsonOption = False,
) -> None:
    """The evaluation code printed on a case's 受理回执."""
    with runtime() as rt:
        try:
            found = rt.ratings.code_for(case_no)
        except DomainError as exc:
            _refused(exc)
    if json_output:
        print_json({"case_no": case_no, "code": found})
    else:
        out.print(found)
