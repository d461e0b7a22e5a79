"""Reading the studio's pages as a browser does: the fields a form posts, the notes shown
next to a field (shared by the studio tests)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


class FormFields(HTMLParser):
    """The (name, value) pairs one form would post: inputs (checked boxes only), selected
    options, text areas; not the buttons, nor what is inside a <template>."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.template = 0
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first: str | None = None
        self._chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "template":
            self.template += 1
        if self.template:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._first, self._chosen = a["name"], None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first is None:
                self._first = value
            if "selected" in a and not self._chosen:
                self.fields.append((self._select, value))
                self._chosen = True
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        if not self.inside:
            return
        if tag == "template":
            self.template -= 1
        elif tag == "select" and self._select is not None:
            if not self._chosen and self._first is not None:
                self.fields.append((self._select, self._first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def form_fields(page: str, form_id: str = "studio-form") -> dict[str, str]:
    parser = FormFields(form_id)
    parser.feed(page)
    return dict(parser.fields)


def notes_at(page: str, place: str) -> list[str]:
    """The problems shown at a place of the form (`agenda.2.start`, a row, a section)."""
    match = re.search(
        rf'<div class="notes" id="n-{re.escape(place)}" data-note>(.*?)</div>', page, re.S
    )
    assert match, f"no place {place} in the page"
    found = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', match.group(1), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in found]


def value_of(page: str, name: str) -> str:
    """What the input named `name` shows."""
    return form_fields(page).get(name, "")
