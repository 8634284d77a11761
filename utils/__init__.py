"""Shared code for the vision-language course labs."""
