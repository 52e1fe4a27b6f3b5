from textual.widgets import Static
from textual.containers import VerticalScroll
from tests.conftest import TODAY
from tests.functional.tui_helpers import make_app, sign_in
from tests.functional.test_tui_certificates import approved_case, supervisor
from screens.certificate import QrDialog
from window_client.services.certificate_print import qr_terminal
from window_client.services.samples import person_id
import random

async def test_x(rt):
    case_no = approved_case(rt, person_id(random.Random(3)))
    (view,) = rt.certificates.issue([case_no], TODAY, approver=supervisor(rt))
    for size in [(80,24),(80,31),(80,32)]:
        app = make_app(rt)
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot)
            app.push_screen(QrDialog(view, qr_terminal(view.qr)))
            await pilot.pause()
            d = app.screen.query_one("#qr-drawing", Static)
            sc = app.screen.query_one("#qr-scroll", VerticalScroll)
            print(size, d.region, sc.region, sc.max_scroll_y, app.screen.query_one("#qr-details").region)
            print(app.export_screenshot()[:0])
