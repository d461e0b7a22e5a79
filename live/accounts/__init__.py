"""Organizers' accounts: who may act for which territory or event (`grants`), the audit
log of grants and sign-ins (`audit`), and the server-side sessions a sign-in opens
(`sessions`). The sign-in itself (OpenID Connect) is the web layer's (`web/signin.py`):
this package never speaks HTTP."""
