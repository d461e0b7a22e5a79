"""Every page passes axe-core's WCAG 2 A/AA rules (labels, contrast, names, landmarks).

axe-core is the npm package in js/ (installed by `npm ci --prefix js`); it runs inside
Debian's Chromium on the real pages, after their scripts have rendered the live state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import LiveServer, unavailable

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
EVENT = "poitiers-2020"


def pages(server: LiveServer) -> dict[str, str]:
    link = server.link
    return {
        "home": "/",
        "public": f"/e/{EVENT}",
        "register": f"/e/{EVENT}/register",
        "console": f"/e/{EVENT}/console?k={link(EVENT, 'facilitator')}",
        "screen": f"/e/{EVENT}/screen?k={link(EVENT, 'screen', site='niort')}",
        "participant": f"/e/{EVENT}/me?k={link(EVENT, 'participant', site='niort')}",
        "organizer": f"/e/{EVENT}/organize?k={link(EVENT, 'organizer')}",
        "report": f"/e/{EVENT}/organize/report?k={link(EVENT, 'organizer')}",
        "links sheet": f"/e/{EVENT}/links?k={link(EVENT, 'organizer')}",
        "site links sheet": f"/e/{EVENT}/links/niort?k={link(EVENT, 'organizer')}",
        "notes editor": (
            f"/e/{EVENT}/notes?k={link(EVENT, 'rapporteur', workshop='enseigner-niort')}"
        ),
        "notes view": f"/e/{EVENT}/notes/enseigner-niort?k={link(EVENT, 'screen', site='niort')}",
        "speaker": f"/e/{EVENT}/speak?k={link(EVENT, 'speaker')}",
        "site host": f"/e/{EVENT}/host?k={link(EVENT, 'host', site='niort')}",
        "refused link": f"/e/{EVENT}/console",
        "administration": f"/admin?k={server.signer.sign_admin()}",
        "new event": f"/studio/new?k={server.signer.sign_admin()}",
        "studio": f"/e/{EVENT}/studio?k={link(EVENT, 'organizer')}",
        "delete event": f"/admin/e/{EVENT}/delete?k={server.signer.sign_admin()}",
    }


def test_every_page_passes_the_wcag_rules(live_server: LiveServer, browser: Any) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    found = {}
    page = browser.new_page(bypass_csp=True)  # axe goes in as an inline script
    for name, path in pages(live_server).items():
        page.goto(live_server.url + path)
        page.wait_for_timeout(400)  # the live state renders
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        assert result["passes"], f"axe checked nothing on {name}"
        problems = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]
        ]
        if problems:
            found[name] = problems
    page.close()
    assert found == {}
