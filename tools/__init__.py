"""Staff and developer tools: data checks, review, training and evaluation, bench.

Run each as a module from the repository root (``python -m tools.check_data``;
the Makefile has a target for each). Server code never imports them
(``tests/unit/test_layering.py``).
"""
