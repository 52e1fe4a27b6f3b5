"""What the hall does, one service per area: each opens its transactions and applies the domain rules.

Above :mod:`hall_server.domain`, below the routers and the CLI (which only translate HTTP and
command lines into these calls):

- :mod:`~hall_server.services.hall` — :class:`~hall_server.services.hall.Hall`, one per app:
  sign-in, push, pull, audit trail, reference data;
- :mod:`~hall_server.services.batch` (with :mod:`~hall_server.services.outcomes` and
  :mod:`~hall_server.services.answers`) — applying a pushed batch;
- :mod:`~hall_server.services.backoffice` — case lists and back-office decisions;
- :mod:`~hall_server.services.certificates` — the certificate authority (keys, revocations,
  verification), its API models in :mod:`~hall_server.services.certificate_models`;
- :mod:`~hall_server.services.publishing`, :mod:`~hall_server.services.demo` — publishing
  reference data, seeding the demo accounts.
"""
