"""The signed-in shell: home tiles say "coming soon" exactly for the sections that are not built yet."""

import re

from fastapi.testclient import TestClient

from api.web.pages import SECTIONS
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import FOUNDER_EMAIL, sign_in

TILE = re.compile(r'<li class="card tile">\s*<h2><a href="([^"]+)">.*?</li>', re.S)


def test_home_marks_coming_soon_exactly_the_unbuilt_sections(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    sign_in(web, smtp_sink, FOUNDER_EMAIL)

    home = web.get("/app")
    tiles = {match.group(1): "Coming soon" in match.group(0) for match in TILE.finditer(home.text)}

    assert set(tiles) == {path for key, _label, path in SECTIONS if key != "home"}
    for path, soon in tiles.items():
        page = web.get(path)
        assert page.status_code == 200, path
        assert ("This part of the web app is not built yet" in page.text) == soon, path
    assert tiles["/app/users"] is False
