"""``python -m hall_server`` runs the ``hall-server`` command."""

from hall_server.cli import main

if __name__ == "__main__":
    main()
