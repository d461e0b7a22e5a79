"""A consultation: events over territories, their published contributions, the public
territorial space that shows them (search, subject pages, counts, roll-up), and its
storage. Plain Python over live/backends; the web pages sit in live/web/."""
