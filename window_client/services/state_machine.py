"""The case state machine, re-exported for the client services.

The table lives in :mod:`models.state_machine` because the hall server applies the same
transitions to pushed operations and may import only the shared models.
"""

from models.state_machine import EVENT_ZH, STATE_ZH, TERMINAL, TRANSITIONS, CaseEvent, next_state

__all__ = ["EVENT_ZH", "STATE_ZH", "TERMINAL", "TRANSITIONS", "CaseEvent", "next_state"]
