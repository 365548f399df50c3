"""The crisis safety net: deterministic emergency and crisis rules.

- :mod:`.vocabulary`: levels, gates and the words the rules match;
- :mod:`.text`: normalisation and the context of each sentence;
- :mod:`.rules`: the rule table and :func:`~.rules.assess` (pure Python);
- :mod:`.component`: the Rasa NLU component named in ``config.yml``.
"""
