"""The language of the CLI's staff-facing text: Chinese unless told otherwise.

``--lang zh|en`` (before the command) wins, then ``WINDOW_CLIENT_LANG``, then the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``): a locale naming English (``en_US.UTF-8``) gives English,
anything else — ``zh_CN.UTF-8``, and also ``C`` or ``POSIX``, which minimal systems set without
anyone choosing them — Chinese, the counter's language. Problems carry both texts
(:class:`models.problems.Problem`); what only the CLI prints is in
:data:`window_client.cli.texts.TEXT`, one table to review. JSON keys never change with the
language; only the human-readable strings do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from models.problems import Language
from window_client.cli.texts import LABELS, TEXT

LANGUAGES: tuple[Language, ...] = ("zh", "en")
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

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
