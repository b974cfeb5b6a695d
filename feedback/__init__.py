"""feedback: a supporter feedback-loop survey engine."""

__version__ = "0.1.0"
