"""Shared notes: one Yjs document per workshop, co-edited live, shown on every screen.

- `room`: a workshop's document and its connections (who may edit, who reads);
- `ysync`: the y-websocket / y-protocols binary encoding;
- `writer`: group commits of every room's updates, before they are relayed;
- `synthesis`: all workshops' notes as one document (Markdown, HTML, PDF).
"""
