"""An event as YAML text, the exchange format: what the studio saves and exports.

One event has one text. Keys come in the order the model declares them, times read
"HH:MM", every value equal to its default is left out (a site's `hub: false`, the default
time zone, the default notes template), and nothing is written twice through anchors. So
an export re-imported (`relais import`, or the studio's import) gives the same event, and
exporting that again gives the same text, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel

from live.event_file import parse_event
from live.model import Event, Report, Step

# The models of a new event: the demo days, with the organizer's id, title and date.
MODELS: dict[str, str | None] = {
    "ariege": "ariege-2020.yaml",  # the departmental half-day
    "poitiers": "poitiers-2020.yaml",  # the four-site morning
    "grand-est": "grand-est-2020.yaml",  # the seven-site regional day
    "blank": None,
}


def export(event: Event) -> str:
    """The canonical YAML text of `event`."""
    return dump(event_data(event))


def event_data(event: Event) -> dict[str, Any]:
    """The event as plain data (dicts, lists, text, numbers), defaults left out."""
    data = _plain(event)
    for step, out in zip(event.agenda, data.get("agenda", []), strict=True):
        _step(step, out)
    for workshop, out in zip(event.workshops, data.get("workshops", []), strict=True):
        _reports(workshop.id, workshop.reports, out)
    return data


def _step(step: Step, out: dict[str, Any]) -> None:
    # `speaker` is derived from `speakers` (their names joined) unless the file said
    # otherwise: written only when it says something `speakers` does not.
    if step.speakers and step.speaker == ", ".join(p.name for p in step.speakers):
        out.pop("speaker", None)
    _reports(step.id, step.reports, out)


def _reports(owner: str, reports: tuple[Report, ...], out: dict[str, Any]) -> None:
    """A report's id is left out when it is the one the model gives (`owner-rank`)."""
    for i, (report, plain) in enumerate(zip(reports, out.get("reports", []), strict=True), 1):
        if report.id == f"{owner}-{i}":
            plain.pop("id", None)


def _plain(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if not field.is_required() and value == field.get_default(call_default_factory=True):
            continue
        out[name] = _value(value)
    return out


def _value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value)
    if isinstance(value, tuple | list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, datetime):  # before `date`: a datetime is a date too
        return value.isoformat()
    if isinstance(value, time):
        return _Clock(value.strftime("%H:%M" if not value.second else "%H:%M:%S"))
    if isinstance(value, date):
        return value
    return value


class _Clock(str):
    """A time of day, always quoted ("09:00" and "13:30" alike: YAML 1.1 would read an
    unquoted 13:30 as a number of minutes)."""


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key as people write them, no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Several lines (a notes template) as a literal block; PyYAML quotes what a block
    cannot hold."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _clock(dumper: yaml.SafeDumper, value: _Clock) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_Dumper.add_representer(str, _text)
_Dumper.add_representer(_Clock, _clock)


def dump(data: dict[str, Any]) -> str:
    """YAML text of plain data, in the data's key order."""
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,  # no folded lines: a long title stays on its line
    )
    return text


def model_data(model: str, t: Callable[[str], str]) -> dict[str, Any]:
    """A model's data: a demo day as plain data, or a blank day (one site, one step)."""
    name = MODELS.get(model)
    if name is None:
        return {
            "sites": [{"id": "site", "name": t("studio.blank_site"), "hub": True}],
            "agenda": [
                {
                    "id": "accueil",
                    "kind": "welcome",
                    "title": t("kind.welcome"),
                    "start": "09:00",
                    "duration": 30,
                }
            ],
        }
    text = resources.files("live.demo").joinpath(name).read_text(encoding="utf-8")
    return event_data(parse_event(text, name))
