"""Errors that services raise for the caller to show next to a form field."""


class FieldError(Exception):
    """A rule broken by the value of one input field (`field` names the form field)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
