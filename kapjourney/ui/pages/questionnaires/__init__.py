"""Scheduled questionnaires (PHQ-9, GAD-7, PCL-5) and the C-SSRS screener, one at a time."""

from kapjourney.ui.pages.questionnaires import form  # noqa: F401
