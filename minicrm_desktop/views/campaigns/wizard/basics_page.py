"""The wizard's first page: the campaign's name and channel."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit

from minicrm_desktop.models.campaign import Channel
from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.views.campaigns.wizard.step import StepPage


class BasicsPage(StepPage):
    page_id = PageId.BASICS

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Name, channel and objective")
        self.setSubTitle("What the campaign is called, how it reaches customers, and why.")
        form = QFormLayout(self)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("campaign_name")
        self.name_edit.setPlaceholderText("e.g. Diwali offer for loyal customers")
        self.name_edit.setMaxLength(steps.NAME_LIMIT)
        self.channel = QComboBox()
        self.channel.addItem("Email", Channel.EMAIL.value)
        self.channel.addItem("SMS", Channel.SMS.value)
        self.objective = QLineEdit()
        self.objective.setPlaceholderText("e.g. bring back customers who have not ordered")
        form.addRow("Name", self.name_edit)
        form.addRow("Channel", self.channel)
        form.addRow("Objective", self.objective)
        self.registerField("name*", self.name_edit)
        self.registerField("channel", self.channel)
        self.registerField("objective", self.objective)
