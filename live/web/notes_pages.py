"""Notes pages: the rapporteur's editor, the read-only view, and the synthesis download."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
