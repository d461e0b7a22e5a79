"""Links: signed role links and their checks (signing), which links an event has and the
ones kept (kept), the printable sheet (printed)."""
