"""A scripted "browser" for the dev IdP's account picker."""

from __future__ import annotations

import re

import requests


def pick_account(url: str, email: str, name: str = "", *, deny: bool = False,
                 unverified: bool = False) -> requests.Response:
    """Open the authorization URL, choose (or type) an account, follow the redirect home."""
    with requests.Session() as browser:
        page = browser.get(url, timeout=10)
        page.raise_for_status()
        picker = re.search(r"name='picker' value='([^']+)'", page.text)
        assert picker is not None, page.text
        form = {"picker": picker.group(1), "email": email, "name": name}
        if deny:
            form = {"picker": picker.group(1), "deny": "1"}
        if unverified:
            form["unverified"] = "1"
        base = url.split("/authorize", 1)[0]
        return browser.post(f"{base}/approve", data=form, timeout=10)
