"""Headless services shared by the CLI and the TUI. Nothing here imports Textual."""
