"""The wizard's "Suggest variants…" dialog keeping to the objective's figures (issue 17), for
`scripts/screenshots.py`. The model is the tests' fake OpenAI server on 127.0.0.1, answering
three variants, one with a figure the objective lacks ("up to 40% off"): that one is left
out and the dialog says so."""

from __future__ import annotations

import os
from pathlib import Path

OBJECTIVE = "Diwali 15% offer"
VARIANTS = [
    "Hi {first_name|there}, our Diwali 15% offer is here — treat yourself this festive week!",
    "Hi {first_name|there}, celebrate Diwali with up to 40% off everything!",
    "Dear {first_name|Customer}, enjoy 15% off your next order this Diwali.",
]


def shoot_variant_suggestions(app: object, window: object, out: Path) -> None:
    """A new campaign for "Diwali 15% offer", on its message step, asking for suggestions;
    the app's AI settings point at the fake server only for this picture."""
    from screenshots import ANCHOR, save_dialog, wait_for

    from minicrm_desktop.services.core.settings import AI_BASE_URL, AI_RETRIES
    from minicrm_desktop.views.shell.main_window import MainWindow
    from tests.ai.fake_openai import FakeOpenAI, Reply

    assert isinstance(window, MainWindow)
    settings = window.services.settings
    before = settings.get(AI_BASE_URL), settings.get(AI_RETRIES), os.environ.get("OPENAI_API_KEY")
    server = FakeOpenAI()
    server.start()
    server.script(Reply.answer({"variants": [{"text": text} for text in VARIANTS]}))
    settings.set(AI_BASE_URL, server.url)
    settings.set(AI_RETRIES, 0)
    os.environ["OPENAI_API_KEY"] = "sk-screenshots-not-a-real-key"
    try:
        page = window.campaigns_page
        wizard = page.new_campaign()
        wizard.as_of = ANCHOR
        wizard.basics.name_edit.setText("Diwali offer")
        wizard.basics.objective.setText(OBJECTIVE)
        wizard.next()
        audience = wizard.audience_page
        wait_for(app, lambda: audience.segment_list.count() > 0)
        audience.segment_list.setCurrentRow(next(
            i for i, s in enumerate(audience.segments) if s.name == "Newsletter subscribers"))
        wait_for(app, lambda: audience.live.count is not None)
        wizard.next()
        message = wizard.message_page
        message.suggest_button.click()
        dialog = message.suggestions
        assert dialog is not None
        wait_for(app, lambda: dialog.answer is not None and not dialog.busy)
        save_dialog(app, window, wizard, out / "campaign-wizard-suggestions.png", above=dialog)
        dialog.reject()
        wizard.done(0)  # only for the picture: no "keep as draft?" question
        wait_for(app, lambda: not wizard.busy)
    finally:
        settings.set(AI_BASE_URL, before[0])
        settings.set(AI_RETRIES, before[1])
        if before[2] is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = before[2]
        server.stop()
