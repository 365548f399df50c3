"""What both servers and the tools share, and nothing that ties it to either.

- :mod:`.paths`: where the project's files are;
- :mod:`.data`: the one reader of the training data, answers and domain;
- :mod:`.buttons`: the bot's buttons and payloads (both servers offer them);
- :mod:`.redact`: masks personal data in log records;
- :mod:`.parse`: the one reader of the ResponseSelector's choice in parse data.

It imports neither Rasa nor rasa_sdk nor any other package of this project
(``tests/unit/test_layering.py``), so either server can be packaged with it.
"""
