"""What a campaign page's controls say and ask: who delivers a running campaign (or why a
paused one stopped), and the confirmation before an irreversible cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from minicrm_desktop.services.campaigns.store import DeliveryState

#: Statuses a campaign can still be cancelled in.
CANCELLABLE = ("draft", "scheduled", "running", "paused")


def describe_delivery(state: DeliveryState, local_owner: str | None) -> str:
    """Who sends a running campaign, or why a paused one stopped (empty: nothing to say)."""
    status = state.counts.status
    if status == "running":
        if state.owner is None:
            return "Not being delivered right now: Resume sends it from this app."
        if state.owner == local_owner:
            return "Being delivered by this app."
        return f"Being delivered by {state.owner}; its progress shows here as it goes."
    if status == "paused" and state.reason:
        return f"Paused: {state.reason}"
    return ""


def confirm_cancel(parent: QWidget, name: str, unsent: int | None) -> bool:
    """Ask before an irreversible cancel; No is the default and Escape answers it."""
    rest = "" if unsent is None else f" The {unsent:,} messages not sent yet will never be sent."
    box = QMessageBox(QMessageBox.Icon.Warning, "Cancel campaign",
                      f"Cancel “{name}”?{rest} This cannot be undone.",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    yes = box.button(QMessageBox.StandardButton.Yes)
    no = box.button(QMessageBox.StandardButton.No)
    yes.setText("Cancel campaign")
    no.setText("Keep it")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(no)
    return box.exec() == QMessageBox.StandardButton.Yes
