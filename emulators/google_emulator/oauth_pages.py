"""HTML of the emulator's Google sign-in/consent page and of its error pages.

The page has stable element ids (``email``, ``allow``, ``deny``) so browser tests can drive it.
"""

from __future__ import annotations

from html import escape

from google_emulator.oauth_store import Pending

_STYLE = (
    "body{font-family:sans-serif;max-width:36em;margin:3em auto;color:#202124}"
    "button{padding:.5em 1.5em;margin-right:1em}li{margin:.2em 0}"
)


def consent_page(pending: Pending, accounts: list[str], preselected: str, allow_other: bool) -> str:
    options = "".join(
        f'<option value="{escape(a)}"{" selected" if a == preselected else ""}>{escape(a)}</option>'
        for a in accounts
    )
    scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in pending.scopes)
    other = (
        '<p><label>or another account: <input id="other_email" name="other_email" '
        'type="email" placeholder="someone@example.com"></label></p>'
        if allow_other
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Google Accounts (emulator)</title>
<style>{_STYLE}</style></head><body>
<h1>Choose an account</h1>
<p>to continue to <strong>{escape(pending.client_id)}</strong> (Google Calendar API emulator)</p>
<form method="post" action="/signin/oauth/consent">
<input type="hidden" name="pending" value="{escape(pending.id)}">
<p><label>Account: <select id="email" name="email">{options}</select></label></p>
{other}
<p>This app wants to:</p><ul>{scopes}</ul>
<p><button id="allow" name="action" value="allow" type="submit">Allow</button>
<button id="deny" name="action" value="deny" type="submit">Deny</button></p>
</form></body></html>
"""


def error_page(code: int, error: str, detail: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error {code}: {escape(error)}</title>
<style>{_STYLE}</style></head><body>
<h1>Access blocked: authorization error</h1>
<p><strong>Error {code}: {escape(error)}</strong></p><p>{escape(detail)}</p>
</body></html>
"""
