"""The one question for the encrypted secrets file's passphrase (used where no keyring is)."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget


def ask_secrets_passphrase(parent: QWidget | None, *, keeps: str, creating: bool) -> str | None:
    """The passphrase the user typed, or None if they cancelled or typed nothing. `keeps`
    says what the file holds ("your sign-in", "the API key")."""
    prompt = (f"No system keyring was found, so MiniCRM keeps {keeps} in a file "
              "encrypted with a passphrase.\n\n"
              + ("Choose a passphrase:" if creating else "Passphrase:"))
    text, ok = QInputDialog.getText(parent, "Secrets passphrase — MiniCRM", prompt,
                                    QLineEdit.EchoMode.Password)
    return text if ok and text else None
