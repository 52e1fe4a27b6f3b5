"""The hall's rules, over a connection the caller opened: what it believes and what it refuses.

Above :mod:`hall_server.storage` (whose queries and tables it uses) and below
:mod:`hall_server.services` (which opens the transactions and puts the rules together):

- :mod:`~hall_server.domain.operations` — a pushed operation as the hall applies it;
- :mod:`~hall_server.domain.rules`, :mod:`~hall_server.domain.textcheck`,
  :mod:`~hall_server.domain.accepts`, :mod:`~hall_server.domain.vetting` — the checks an operation
  must pass before it is kept (structure, plain text, the counter's accept rules, what a station
  must prove before a termination or decision);
- :mod:`~hall_server.domain.fold` — the conflict rule: a case's state as a fold of its operations;
- :mod:`~hall_server.domain.auth`, :mod:`~hall_server.domain.approvals`,
  :mod:`~hall_server.domain.throttle` — passwords and tokens, supervisors' signed approvals,
  sign-in throttling;
- :mod:`~hall_server.domain.anchors` — judging the audit heads stations send;
- :mod:`~hall_server.domain.certificate_trust` — whom the hall believes about certificates;
- :mod:`~hall_server.domain.reference` — the catalogue and holiday arrangements in force.
"""
