"""Everything that runs inside the Rasa server process.

- ``__main__``: the entry point, ``python -m rasa_server run|shell``;
- ``settings``: the environment the Rasa side reads, read once;
- ``patches``: every change to Rasa internals, in one ordered list;
- ``channels``: the website widget (socket.io), REST and the messaging apps;
- ``stores``: the lock stores, the leaner SQL tracker store, the store guard;
- ``safety_net``: the emergency and crisis rules, and their NLU component;
- ``dedupe``, ``log_redaction``, ``inference_cache``: what the patches install.

It imports :mod:`common` and Rasa, never :mod:`actions` or :mod:`tools`.
"""
