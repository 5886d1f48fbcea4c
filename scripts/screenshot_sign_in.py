"""Render the sign-in window to docs/screenshots/sign-in.png, offscreen.

The window runs the real flow up to the browser step: the authorization URL is Google's,
built locally; nothing is sent anywhere. `scripts/screenshots.py` calls `shoot_sign_in`;
on its own:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_sign_in.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def shoot_sign_in(app: object, out: Path, folder: Path) -> Path:
    from screenshots import save, wait_for

    from minicrm_desktop.services.access.identity import GOOGLE_ISSUERS
    from minicrm_desktop.services.auth.config import (
        GOOGLE_AUTH_URI,
        GOOGLE_CERTS_URI,
        GOOGLE_REVOKE_URI,
        GOOGLE_TOKEN_URI,
        OAuthConfig,
    )
    from minicrm_desktop.services.core.bus import EventBus
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.core.secrets import EncryptedFileSecrets, SecretStore
    from minicrm_desktop.services.core.tasks import TaskRunner
    from minicrm_desktop.views.access.sign_in_dialog import SignInDialog

    config = OAuthConfig(
        client_id="1234567890-minicrm.apps.googleusercontent.com", client_secret="unused",
        auth_uri=GOOGLE_AUTH_URI, token_uri=GOOGLE_TOKEN_URI, certs_uri=GOOGLE_CERTS_URI,
        revoke_uri=GOOGLE_REVOKE_URI, issuers=GOOGLE_ISSUERS, source="screenshot",
        is_google=True,
    )
    engine = create_db_engine(f"sqlite:///{folder / 'sign-in.db'}")
    runner = TaskRunner(EventBus())
    secrets = SecretStore(EncryptedFileSecrets(folder / "secrets.enc", lambda: "screenshot"))
    dialog = SignInDialog(config, engine, runner, secrets, open_browser=lambda _url: None)
    dialog.resize(560, dialog.sizeHint().height())
    dialog.show()
    dialog.start_sign_in()
    wait_for(app, lambda: bool(dialog.url_field.text()))
    path = out / "sign-in.png"
    save(app, dialog, path)
    dialog.cancel()
    wait_for(app, lambda: dialog.sign_in_button.isEnabled())
    runner.shutdown()
    dialog.close()
    engine.dispose()
    return path


def main() -> int:
    from minicrm_desktop.app import create_application

    app = create_application(["screenshots"])
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minicrm-sign-in-") as tmp:
        shoot_sign_in(app, out, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
