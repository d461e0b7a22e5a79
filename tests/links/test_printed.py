"""A site's printed sheet as PDF, off the server: with the system's DejaVu fonts or,
without them, core fonts (latin-1), every link with a QR code or the reason it has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.assets import FONTS
from live.links.printed import PrintEntry, PrintSheet, _latin1, sheet_pdf

ENTRY = PrintEntry("Écran de la salle", "", "À ouvrir — en plein écran.", "http://x/e/y", "")
SHEET = PrintSheet("Liens du site", "Lycée « Œuvre »", "Niort", "Événement", "…", (ENTRY,))


def test_the_pdf_sheet_renders_without_unicode_fonts_too() -> None:
    assert sheet_pdf(SHEET, fonts=Path("/nowhere")).startswith(b"%PDF")


@pytest.mark.skipif(not (FONTS / "DejaVuSans.ttf").exists(), reason="no DejaVu fonts here")
def test_the_pdf_sheet_embeds_the_systems_fonts() -> None:
    pdf = sheet_pdf(SHEET)
    assert pdf.startswith(b"%PDF") and b"DejaVu" in pdf


def test_a_revoked_link_is_printed_with_its_reason_and_no_code() -> None:
    revoked = PrintEntry("Hôte", "", "À ouvrir", "http://x/e/y/host?k=T", "Révoqué")
    sheet = PrintSheet("Liens du site", "Foix", "", "Événement", "", (ENTRY, revoked))
    assert sheet_pdf(sheet, fonts=Path("/nowhere")).startswith(b"%PDF")


def test_core_fonts_get_the_nearest_latin1_text() -> None:
    assert _latin1("« Œuvre » — l’atelier") == '" ?uvre " - l\'atelier'
