"""Textual screens and widgets of the counter. UI only: every action calls a service."""
