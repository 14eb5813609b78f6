"""Accounts: server-side sessions, and signing in with throttling instead of lockout (docs/security.md).

`app/users.py` (creating and changing accounts) belongs here too; it stays where it is until the
account work of other issues has landed.
"""
