"""One ``APIRouter`` per area of the API, each included by :func:`hall_server.app.create_app`.

A new area (e.g. public keys and certificates) adds a module here with its own ``router``, uses
:func:`hall_server.routers.deps.hall` and :func:`hall_server.routers.deps.principal` as
dependencies, calls a service (:mod:`hall_server.services`) for the work, and is listed in
:data:`hall_server.app.ROUTERS`. :mod:`hall_server.routers.wire` reads push bodies.
"""
