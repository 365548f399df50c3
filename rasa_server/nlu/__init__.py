"""NLU building blocks of the Rasa process beyond the safety net.

- :mod:`.encoder`: the all-MiniLM-L6-v2 sentence encoder in NumPy, from the
  weights ``python -m tools.build_encoder`` extracts (``make encoder``).
"""
