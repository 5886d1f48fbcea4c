"""The Segments page and the rule builder: the rule tree model and view, the node
editor, labels, the live audience count and the describe panel.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
"""

from minicrm_desktop.views.segments.describe_panel import DescribePanel
from minicrm_desktop.views.segments.dialogs import SegmentNameDialog
from minicrm_desktop.views.segments.live_count import LiveCount
from minicrm_desktop.views.segments.node_editor import NodeEditor
from minicrm_desktop.views.segments.page import SegmentsPage
from minicrm_desktop.views.segments.page_keys import redo_keys
from minicrm_desktop.views.segments.root_bar import RootMatchBar
from minicrm_desktop.views.segments.rule_actions import RuleActions
from minicrm_desktop.views.segments.rule_checks import problem_message
from minicrm_desktop.views.segments.rule_model import RuleTreeModel
from minicrm_desktop.views.segments.rule_view import RuleTreeView

__all__ = ["DescribePanel", "LiveCount", "NodeEditor", "RootMatchBar", "RuleActions",
           "RuleTreeModel", "RuleTreeView", "SegmentNameDialog", "SegmentsPage",
           "problem_message", "redo_keys"]
