"""Importing this package registers every page with the layout decorator."""

from kapjourney.ui.pages import clients, crisis, index, invite, signin, today  # noqa: F401
