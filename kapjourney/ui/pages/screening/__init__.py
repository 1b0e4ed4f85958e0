"""Screening: the list of questionnaires, and one questionnaire at a time."""

from kapjourney.ui.pages.screening import questionnaire, tasks  # noqa: F401
