"""Closing the loop: decisions recorded against findings."""
