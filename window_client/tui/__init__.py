"""The parts :class:`window_client.app.WindowClientApp` is composed of, one idea each: the key
hand-out (:mod:`.keys`), the command palette (:mod:`.palette`), the sync thread's messages
(:mod:`.sync_events`), sign-in and the idle lock (:mod:`.session`) and the one place worker
failures become error dialogs (:mod:`.errors`). Screens never import them."""
