"""Where the templates and static files are: beside the package in a source checkout (the
repository keeps `templates/` and `static/` at its top), inside it once installed from a
wheel (the build puts them in `live/templates` and `live/static`, see pyproject.toml); and
the system's fonts the PDFs are drawn with."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# DejaVu (Debian's fonts-dejavu-core), for PDFs in any language: the links sheets and the
# synthesis. Where it is missing, the PDFs fall back on core fonts (latin-1 only).
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def asset_dir(name: str) -> Path:
    """The `templates` or `static` directory this installation serves."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name
