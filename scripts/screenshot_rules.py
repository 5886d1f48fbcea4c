"""The rule builder's pictures for docs/screenshots: the Segments page with counts beside
its groups, a new (inactive) condition and the context menu open, and the wizard's inline
builder. `scripts/screenshots.py` calls these with its running app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The wizard's own rule: ANY of two groups, so each shows its count.
WIZARD_RULE: dict[str, Any] = {"combinator": "or", "rules": [
    {"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "total_spend", "operator": ">", "value": 5000}]},
    {"combinator": "and", "rules": [
        {"field": "tags", "operator": "contains", "value": "vip"},
        {"field": "order_count", "operator": ">=", "value": 3}]},
]}


def shoot_builder_menu(app: object, window: Any, out: Path) -> None:
    """The open segment with a new condition still waiting for its value (greyed, out of
    the counts), the counts beside each group, and the rule menu open on that row."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter
    from screenshots import save, wait_for

    segments = window.segments_page
    tree = segments.tree
    tree.setCurrentIndex(segments.model.index(0, 0))
    segments.add_condition()
    wait_for(app, lambda: not segments.live.pending and bool(segments.model.counts))
    save(app, window, out / "segments-builder.png")
    menu = segments.rule_actions.build_menu()
    rect = tree.visualRect(tree.currentIndex())
    menu.popup(tree.viewport().mapToGlobal(rect.bottomLeft() + QPoint(60, 0)))
    wait_for(app, menu.isVisible)
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    path = out / "segments-menu.png"
    shot.save(str(path))
    print(path)
    menu.close()
    segments.model.undo_stack.undo()  # the picture's condition goes again


def shoot_wizard_rule(app: object, window: Any, out: Path, as_of: Any) -> None:
    """The wizard's inline builder: Match ANY, two groups with their counts."""
    from screenshots import save_dialog, wait_for

    from minicrm_desktop.models.rule_tree import tree_from_rule

    page = window.campaigns_page
    wizard = page.new_campaign()
    wizard.as_of = as_of
    wizard.basics.name_edit.setText("VIP weekend preview")
    wizard.next()
    wizard.audience_page.rule_radio.setChecked(True)
    wizard.next()
    rules = wizard.rule_page
    rules.model.replace_root(tree_from_rule(WIZARD_RULE), "Picture")
    rules.tree.expandAll()
    rules.tree.setCurrentIndex(rules.model.index(1, 0, rules.model.index(0, 0)))
    wait_for(app, lambda: not rules.live.pending and len(rules.model.counts) == 3)
    save_dialog(app, window, wizard, out / "campaign-wizard-rule.png")
    wizard.done(0)  # only for the picture: no "keep as draft?" question
    wait_for(app, lambda: not wizard.busy)
