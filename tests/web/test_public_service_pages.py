"""The pages a French public service carries (« Déclaration d'accessibilité », « Mentions
légales », « Données personnelles »): each answers in French and English with the
settings' values, the retention said is the setting's, every page a person reads links to
them from its footer, and the accessibility statement lists exactly what the browser tests
measure."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer
from live.web import public_service
from tests.browser import test_accessibility

SECRET = "test-secret-public-service"
EVENT = "poitiers-2020"  # a demo event
ROOT = Path(__file__).resolve().parents[2]
PAGES = ("/accessibilite", "/mentions-legales", "/donnees-personnelles")
NOTICE = {
    "publisher_name": "Rectorat de l'académie de Poitiers",
    "publisher_address": "22 rue Guillaume VII le Troubadour, 86000 Poitiers",
    "publisher_email": "relais@ac-poitiers.example",
    "publication_director": "Mme la rectrice de l'académie",
    "hosting_provider": "DSI de l'académie de Poitiers",
    "hosting_address": "5 cité de la Traverse, 86000 Poitiers",
    "dpo_contact": "dpd@ac-poitiers.example",
}


def client(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    async def serve() -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(backend="memory", secret=SECRET, demo=True, **settings))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as c:
                yield c

    return serve()


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client(data_dir=tmp_path, retention_days=45, confirm_hours=24, **NOTICE):
        yield c


def text_of(page: httpx.Response) -> str:
    """The page's words, entities unescaped (apostrophes are `&#39;` in the HTML)."""
    import html

    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


async def test_each_page_answers_in_french_and_english_with_the_settings(
    http: httpx.AsyncClient,
) -> None:
    for path in PAGES:
        for lang, heading in (("fr", "Informations légales"), ("en", "Legal information")):
            page = await http.get(f"{path}?lang={lang}")
            assert page.status_code == 200, path
            assert f'<html lang="{lang}">' in page.text
            assert f'aria-label="{heading}"' in page.text
            words = text_of(page)
            assert NOTICE["publisher_name"] in words, (path, lang)
    french = text_of(await http.get("/accessibilite?lang=fr"))
    assert "Déclaration d'accessibilité" in french and "Défenseur des droits" in french
    assert "article 47 de la loi n° 2005-102" in french
    english = text_of(await http.get("/accessibilite?lang=en"))
    assert "Accessibility statement" in english and "Défenseur des droits" in english
    legal = text_of(await http.get("/mentions-legales?lang=fr"))
    for key in ("publisher_address", "publication_director", "hosting_provider"):
        assert NOTICE[key] in legal, key
    assert NOTICE["hosting_address"] in legal
    privacy = await http.get("/donnees-personnelles?lang=en")
    assert "Personal data" in privacy.text
    assert f'href="mailto:{NOTICE["dpo_contact"]}"' in privacy.text
    assert f'href="mailto:{NOTICE["publisher_email"]}"' in privacy.text


async def test_the_retention_said_is_the_settings(http: httpx.AsyncClient, tmp_path: Path) -> None:
    french = text_of(await http.get("/donnees-personnelles?lang=fr"))
    assert "45 jours après sa date" in french
    assert "effacée au bout de 24 heures" in french
    assert "90 jours" not in french
    english = text_of(await http.get("/donnees-personnelles?lang=en"))
    assert "45 days after its date" in english and "after 24 hours" in english
    async for other in client(data_dir=tmp_path / "b", retention_days=1, confirm_hours=1):
        one = text_of(await other.get("/donnees-personnelles"))
        assert "1 jour après sa date" in one and "au bout de 1 heure." in one
    async for forever in client(data_dir=tmp_path / "c", retention_days=0):
        kept = text_of(await forever.get("/donnees-personnelles"))
        assert "ne fixe pas de durée de conservation" in kept
        assert not re.search(r"(?<!\d)0 jour", kept)


async def test_every_page_a_person_reads_links_the_three_from_its_footer(
    http: httpx.AsyncClient,
) -> None:
    signer = Signer(SECRET)
    pages = [
        "/",
        f"/e/{EVENT}",
        f"/e/{EVENT}/register",
        f"/e/{EVENT}/console?k={signer.sign(EVENT, 'facilitator')}",
        f"/e/{EVENT}/organize?k={signer.sign(EVENT, 'organizer')}",
        f"/e/{EVENT}/me?k={signer.sign(EVENT, 'participant', site='niort')}",
        "/e/no-such-event",  # a refusal is a page too
        *PAGES,
    ]
    for path in pages:
        page = await http.get(path + ("&" if "?" in path else "?") + "lang=fr")
        footer = page.text[page.text.index("<footer") :]
        for target in PAGES:
            assert f'href="{target}"' in footer, (path, target)
        assert "Accessibilité : non conforme" in footer, path
        english = await http.get(path + ("&" if "?" in path else "?") + "lang=en")
        footer = english.text[english.text.index("<footer") :]
        assert 'href="/accessibilite?lang=en"' in footer and "Personal data" in footer, path
    # The unattended projector: its layout fills the screen and nobody clicks there.
    screen = await http.get(f"/e/{EVENT}/screen?k={signer.sign(EVENT, 'screen', site='niort')}")
    assert screen.status_code == 200 and "<footer" not in screen.text


async def test_the_status_is_an_audits_and_the_footer_says_it(tmp_path: Path) -> None:
    audit = "audit réalisé le 2 mars 2027 par la DINUM : 78 % des critères respectés"
    async for c in client(
        data_dir=tmp_path, accessibility_status="partiel", accessibility_audit=audit
    ):
        page = await c.get("/accessibilite")
        words = text_of(page)
        assert "Relais est partiellement conforme" in words and audit in words
        assert "Aucun audit" not in words
        assert "Accessibilité : partiellement conforme" in page.text[page.text.index("<footer") :]


def test_the_settings_come_from_the_environment_and_say_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NAME", "ADDRESS", "EMAIL"):
        monkeypatch.delenv(f"RELAIS_PUBLISHER_{name}", raising=False)
    unset = Settings.from_env(signing="none")
    assert (
        "à renseigner" in unset.publisher_name and "RELAIS_PUBLISHER_NAME" in unset.publisher_name
    )
    for value in (unset.publisher_email, unset.publication_director, unset.hosting_provider):
        assert "à renseigner" in value.lower()
    assert unset.accessibility_status == "non"  # no audit: not compliant (RGAA)
    env = {
        "RELAIS_PUBLISHER_NAME": "publisher_name",
        "RELAIS_PUBLISHER_ADDRESS": "publisher_address",
        "RELAIS_PUBLISHER_EMAIL": "publisher_email",
        "RELAIS_PUBLICATION_DIRECTOR": "publication_director",
        "RELAIS_HOSTING_PROVIDER": "hosting_provider",
        "RELAIS_HOSTING_ADDRESS": "hosting_address",
        "RELAIS_DPO_CONTACT": "dpo_contact",
    }
    for variable, field in env.items():
        monkeypatch.setenv(variable, NOTICE[field])
    settings = Settings.from_env(signing="none")
    assert {field: getattr(settings, field) for field in env.values()} == NOTICE
    monkeypatch.setenv("RELAIS_ACCESSIBILITY_STATUS", "total")  # without an audit: refused
    with pytest.raises(ValueError, match="RELAIS_ACCESSIBILITY_AUDIT"):
        Settings.from_env(signing="none")
    monkeypatch.setenv("RELAIS_ACCESSIBILITY_STATUS", "oui")
    with pytest.raises(ValueError, match="non, partiel or total"):
        Settings.from_env(signing="none")


# -- the statement says what the tests measure, no more ----------------------------------

BROWSER = ROOT / "tests" / "browser"
# Where the statement's words rest on a browser test other than test_accessibility.py.
AXE_ELSEWHERE = {
    "phone_participation": "test_participation_phone.py",
    "moderation": "test_participation_moderation.py",
    "console": "test_console_surface.py",  # at 1920 × 1080, workshops and restitution
    "notes_editor": "test_rapporteur_on_screen.py",  # its « À l'écran » line
    "links_sheet": "test_link_validity_sheet.py",  # with its validity controls
    "accessibility": "test_public_service.py",
    "legal": "test_public_service.py",
    "privacy": "test_public_service.py",
    "signin": "test_signin.py",  # with a real OpenID Connect provider
    "account": "test_signin.py",
    "accounts": "test_signin.py",
    "audit": "test_signin.py",
    **dict.fromkeys(
        ("space_home", "space_search", "space_subject", "space_proposal", "space_territory"),
        "test_territorial_space.py",  # on a phone and a desktop, in French and English
    ),
    "space_event": "test_territorial_space.py",
}
# Each keyboard path the statement lists, and the browser tests that walk it.
KEYBOARD_TESTS = {
    "console": (
        ("test_console_surface.py", "test_the_keyboard_drives_the_regional_days_console"),
        ("test_show_day.py", "test_r_and_the_arrows_on_a_running_step_ask_first"),  # R, Escape
    ),
    "console_panel": (
        (
            "test_console_surface.py",
            "test_the_plenary_panel_opens_on_a_plenary_and_folds_by_hand_until_the_step_changes",
        ),
    ),
    "desk": (("test_registration.py", "test_the_organizer_page_is_usable_from_the_keyboard"),),
    "studio": (("test_studio.py", "test_an_event_is_built_in_the_studio_and_run_from_its_links"),),
    "ranking": (
        ("test_participation_phone.py", "test_two_phones_propose_support_and_read_one_support"),
    ),
    "public_pages": (
        ("test_public_service.py", "test_the_keyboard_reaches_the_footer_after_the_skip_link"),
    ),
    "signin": (("test_signin.py", "test_the_keyboard_signs_in_from_the_sign_in_page"),),
    "account": (
        (
            "test_signin.py",
            "test_the_keyboard_opens_a_console_and_signs_out_from_the_account_page",
        ),
    ),
}


def test_every_page_said_checked_by_axe_is_checked_by_a_browser_test() -> None:
    """The statement claims no page the tests do not check (a page a new test checks is
    added to `public_service.AXE_PAGES` and its name to the catalogs)."""
    fake = SimpleNamespace(link=lambda *a, **k: "K", signer=SimpleNamespace(sign_admin=lambda: "A"))
    listed = {name.replace(" ", "_") for name in test_accessibility.pages(fake)}  # type: ignore[arg-type]
    assert len(public_service.AXE_PAGES) == len(set(public_service.AXE_PAGES))
    for page in public_service.AXE_PAGES:
        assert page in listed or page in AXE_ELSEWHERE, page
    for page, test_file in AXE_ELSEWHERE.items():
        assert "axe.run(" in (BROWSER / test_file).read_text(), page


def test_the_keyboard_paths_said_are_walked_by_the_browser_tests() -> None:
    assert set(public_service.KEYBOARD_PATHS) == set(KEYBOARD_TESTS)
    for path, tests in KEYBOARD_TESTS.items():
        for test_file, test_name in tests:
            source = (BROWSER / test_file).read_text()
            assert f"def {test_name}(" in source, path
            body = source[source.index(f"def {test_name}(") :].split("\ndef ")[0]
            assert re.search(r"\.press\(", body), path


def test_the_axe_core_said_is_the_one_the_tests_run() -> None:
    lock = json.loads((ROOT / "js" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/axe-core"]["version"] == public_service.AXE_CORE
