"""The organizer studio: create, edit, import and export events in the browser, and the
instance's administration page (its list of events, archive and delete)."""
