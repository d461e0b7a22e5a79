"""The pages every French public service carries, linked from every page's footer:
« Déclaration d'accessibilité » (RGAA), « Mentions légales » and « Données personnelles »
(RGPD). Who publishes, hosts and answers comes from the settings; what was measured is
what the tests measure (the lists below, which tests/web/test_public_service_pages.py
holds equal to the browser tests), so each page says only what is true of this code."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live import __version__
from live.web.common import render

# axe-core as js/package-lock.json pins it: the version the browser tests run.
AXE_CORE = "4.14.1"

# The pages the browser tests check with axe-core's WCAG 2 A and AA rules, by the key of
# their name (`a11y.page.<key>`): every page of test_accessibility.py, the participation's
# panels, these three pages and the organizers' sign-in, account and accounts' pages.
AXE_PAGES = (
    "home",
    "public",
    "register",
    "participant",
    "phone_participation",
    "console",
    "moderation",
    "screen",
    "notes_editor",
    "notes_view",
    "speaker",
    "site_host",
    "organizer",
    "report",
    "links_sheet",
    "site_links_sheet",
    "administration",
    "new_event",
    "studio",
    "delete_event",
    "refused_link",
    "accessibility",
    "legal",
    "privacy",
    "signin",
    "account",
    "accounts",
    "audit",
    "space_home",
    "space_search",
    "space_subject",
    "space_proposal",
    "space_territory",
    "space_event",
)

# The paths the browser tests walk with the keyboard alone (`a11y.kbd.<key>`).
KEYBOARD_PATHS = (
    "console",
    "console_panel",
    "desk",
    "studio",
    "ranking",
    "public_pages",
    "signin",
    "account",
)


async def accessibility(request: Request) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "accessibilite.html",
        notice=settings,
        axe_core=AXE_CORE,
        axe_pages=AXE_PAGES,
        keyboard_paths=KEYBOARD_PATHS,
        version=__version__,
    )


async def legal_notice(request: Request) -> Response:
    return render(request, "mentions_legales.html", notice=request.app.state.settings)


async def privacy(request: Request) -> Response:
    return render(request, "donnees_personnelles.html", notice=request.app.state.settings)


routes = [
    Route("/accessibilite", accessibility, name="accessibility"),
    Route("/mentions-legales", legal_notice, name="legal_notice"),
    Route("/donnees-personnelles", privacy, name="privacy"),
]
