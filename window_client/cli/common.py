"""What every command shares: the runtime, the consoles, the language (``--lang``) and turning
errors into exit codes."""

from __future__ import annotations

import enum
import errno
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from models.problems import DomainError
from models.text import printable
from window_client.cli.lang import choose, current, problem_text, say
from window_client.cli.texts import TEXT
from window_client.services.batch import BatchFileError
from window_client.services.key_vault import SECRET_PROBLEMS
from window_client.services.runtime import Runtime, UnknownStationError
from window_client.services.settings import Settings, SettingsError
from window_client.services.workdays import ArrangementError

# 3 extends DESIGN.md §6 (0/1/2): the disk holding the store or an output file is full. Each
# step is one transaction, so the step in progress was rolled back and everything reported
# before is kept; freeing space and running the same command again continues.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORAGE_FULL = 0, 1, 2, 3
USAGE_PROBLEMS = frozenset({"case.unknown", "field.invalid", "cert.unknown", "cert.several"})

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def shown(value: object) -> str:
    """``value`` as text safe to print with Rich markup: controls and direction marks become
    visible escapes (:func:`models.text.printable`) and ``[...]`` is printed, not applied. Line
    breaks of a message made of several lines stay line breaks."""
    return "\n".join(escape(printable(line)) for line in str(value).split("\n"))


class Lang(enum.StrEnum):
    """The choices of ``--lang``."""

    ZH = "zh"
    EN = "en"


LangOption = Annotated[
    Lang | None,
    typer.Option(
        "--lang",
        help="Language of messages and reasons: zh or en (default: WINDOW_CLIENT_LANG, else the"
        " locale, else zh). JSON keys do not change.",
        case_sensitive=False,
    ),
]


def choose_language(lang: Lang | None) -> None:
    """Fix the language for this command from ``--lang`` or the environment. A bad
    WINDOW_CLIENT_LANG is a usage error, said in both languages since neither was chosen."""
    try:
        choose(None if lang is None else "zh" if lang is Lang.ZH else "en")
    except ValueError as exc:
        choose("en")
        zh = TEXT["lang.invalid"][0].format(value=str(exc))
        fail(f"{say('lang.invalid', value=str(exc))} / {zh}")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` (``错误：`` in Chinese) on stderr and exit with ``code``;
    ``message`` is already in the chosen language (:func:`say`)."""
    err.print(f"[red]{say('error')}[/]{shown(message)}")
    raise typer.Exit(code)


def storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or the driver error inside it) says the disk or the store is full."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT)


def actor_name(default: str) -> str:
    """The staff member acting: WINDOW_CLIENT_USER when set."""
    return os.environ.get("WINDOW_CLIENT_USER") or default


@contextmanager
def runtime(actor: str = "cli") -> Iterator[Runtime]:
    """A runtime for one command; known failures become clear messages and exit codes."""
    rt: Runtime | None = None
    try:
        rt = Runtime(Settings.from_env(), actor=actor_name(actor))
        yield rt
    except BatchFileError as exc:
        fail(exc.text(current()))
    except (SettingsError, UnknownStationError) as exc:
        fail(problem_text(exc))  # a configuration or catalogue problem, for the office's admin
    except ArrangementError as exc:
        fail(say("arrangement.bad", detail=problem_text(exc)))
    except DomainError as exc:
        if exc.problem.code in SECRET_PROBLEMS:  # for the office's admin too: both languages
            fail(f"{exc.problem.en()}\n{exc.problem.zh()}", EXIT_USAGE)
        fail(problem_text(exc.problem), EXIT_USAGE if exc.problem.code in USAGE_PROBLEMS else EXIT_FAILED)
    except OperationalError as exc:
        if storage_full(exc):
            fail(say("storage.full"), EXIT_STORAGE_FULL)
        fail(say("store.unusable", detail=exc.orig), EXIT_FAILED)
    except OSError as exc:
        if storage_full(exc):
            fail(say("storage.full"), EXIT_STORAGE_FULL)
        # A permission, a read-only disk, a missing folder: said, never a traceback.
        fail(say("os.failed", path=printable(exc.filename or "-"), detail=exc.strerror or exc), EXIT_FAILED)
    finally:
        if rt is not None:
            rt.close()


def print_json(value: Any) -> None:
    """JSON on stdout, UTF-8, no colour."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
