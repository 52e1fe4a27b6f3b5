"""Shared domain vocabulary: enums, value types, catalogue types, tables and protocol models.

Nothing here imports Textual, the client services or the server (import-linter enforces it).
"""
