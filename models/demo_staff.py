"""The demo accounts of the main hall, one list for the counter (seeded into a new station) and
the hall (``hall-server demo-data``); the credentials are public (README: demo)."""

from __future__ import annotations

from models.enums import Role

# (staff number, name, role, password)
DEMO_STAFF: tuple[tuple[str, str, Role, str], ...] = (
    ("C001", "张敏", Role.CLERK, "demo-1234"),
    ("C002", "李娜", Role.CLERK, "demo-1234"),
    ("S001", "王强", Role.SUPERVISOR, "demo-5678"),
    ("A001", "刘洋", Role.ADMIN, "demo-9999"),
)
