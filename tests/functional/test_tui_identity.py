"""The acceptance form's identity check, driven with Pilot on a real store: each method, the
agent's 授权委托书, 帮办代办, the enterprise's 办事专员, and the default path unchanged."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Label, Select

from models.enums import Role
from models.identity_check import IdentityMethod
from screens.accept import AcceptScreen
from screens.dialogs import DocumentDialog, ErrorDialog
from tests.functional.tui_helpers import SIZE, make_app, sign_in, type_text
from window_client.services.runtime import Runtime
from window_client.services.samples import credit_code, person_id
from window_client.services.staff import StaffMember, seed_demo_staff

RNG = random.Random(21)


def identities(rt: Runtime) -> list[tuple[Any, ...]]:
    with sqlite3.connect(rt.store.path) as db:
        return db.execute(
            "SELECT c.state, i.method, i.slip IS NOT NULL, i.power_of_attorney, i.assisted"
            " FROM cases c JOIN case_identity i USING (case_no) ORDER BY c.id"
        ).fetchall()


async def _open_form(pilot: Pilot[None], pid: str, name: str = "王小明") -> None:
    """F2, the 不动产登记资料查询 item, the applicant's ID and name (the cursor in the name)."""
    await sign_in(pilot)
    await pilot.press("f2", *"bdcdj", "enter")
    await type_text(pilot, pid)
    await pilot.press("enter")
    await type_text(pilot, name)


async def test_the_default_path_records_the_id_card_in_the_same_twelve_keys(rt: Runtime) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        keys = ["f2", *"bdcdj", "enter", "enter", "enter", "f7", "f12", "escape"]
        await pilot.press(*keys[:7])
        await type_text(pilot, person_id(RNG))
        await pilot.press("enter")
        await type_text(pilot, "王小明")
        await pilot.press(*keys[8:11])
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert [d.title for d in app.screen.documents] == ["受理回执"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(keys) == 12 and isinstance(app.screen, AcceptScreen)
        assert identities(rt) == [("accepted", "id_card", False, False, False)]
        assert app.screen.query_one("#identity-method", Select).value is IdentityMethod.ID_CARD


@pytest.mark.parametrize(
    ("presses", "method", "titles"),
    [
        (1, "e_id", ["受理回执"]),
        (2, "face", ["受理回执", "身份核验单"]),
    ],
)
async def test_f5_chooses_the_method(rt: Runtime, presses: int, method: str, titles: list[str]) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _open_form(pilot, person_id(RNG))
        await pilot.press(*["f5"] * presses)
        select = app.screen.query_one("#identity-method", Select)
        assert select.value == method
        note = str(app.screen.query_one("#identity-note", Label).render())
        assert ("受理后出具身份核验单" in note) is (method == "face")
        await pilot.press("enter", "f7", "f12")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert [d.title for d in app.screen.documents] == titles
        await pilot.press("escape")
        await pilot.pause()
        assert identities(rt) == [("accepted", method, method == "face", False, False)]
        assert app.screen.query_one("#identity-method", Select).value is IdentityMethod.ID_CARD  # reset


async def test_an_agent_needs_the_power_of_attorney_ticked(rt: Runtime) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _open_form(pilot, person_id(RNG))
        await pilot.press("tab", "tab")  # phone, then the agent's name
        await type_text(pilot, "李代办")
        await pilot.press("tab")
        await type_text(pilot, person_id(RNG))
        screen = app.screen
        assert screen.query_one("#identity-method", Select).value is IdentityMethod.AGENT  # switched
        attorney = screen.query_one("#power-of-attorney", Checkbox)
        assert not attorney.disabled and not attorney.value
        await pilot.press("f7", "f12")
        await pilot.pause()
        assert isinstance(app.screen, ErrorDialog)
        assert "代办人办理须收取申请人的授权委托书" in app.screen.message
        await pilot.press("escape")
        await pilot.press("tab", "tab", "space")  # past the method, onto 授权委托书: ticked
        assert attorney.value
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert identities(rt) == [("accepted", "agent", False, True, False)]


async def test_f9_marks_the_case_assisted(rt: Runtime) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await _open_form(pilot, person_id(RNG))
        await pilot.press("f9")
        assert app.screen.query_one("#assisted", Checkbox).value
        await pilot.press("enter", "f7", "f12")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert identities(rt) == [("accepted", "id_card", False, False, True)]


async def test_an_enterprise_shows_its_specialist_on_the_form(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    code = credit_code(RNG)
    supervisor = StaffMember("S001", "王强", Role.SUPERVISOR, rt.station.code)
    rt.assistance.assign(code, "C002", supervisor)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f2", *"bdcdj", "enter", "f6")  # an organisation
        await type_text(pilot, code)
        await pilot.pause()
        assert "办事专员：李娜（C002）" in str(app.screen.query_one("#identity-note", Label).render())
        await pilot.press("backspace")
        assert str(app.screen.query_one("#identity-note", Label).render()) == ""
