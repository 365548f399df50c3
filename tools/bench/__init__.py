"""`make bench`: this assistant against a stock `rasa init` assistant (issue 16).

The package:

- :mod:`tools.bench.pools`: the questions, a *repeated* pool cycled and a
  *never twice* stream of distinct texts (pure; tests/unit/test_bench.py);
- :mod:`tools.bench.stats`: percentiles, one load level's figures, the goal
  check against issue 16 (pure; tests/unit/test_bench.py);
- :mod:`tools.bench.load`: the load generators, REST (persistent keep-alive
  connections or a new connection per request) and the widget's socket.io;
- :mod:`tools.bench.servers`: starting the two assistants, start-up time,
  resident memory of the whole serving stack, CPU per process;
- :mod:`tools.bench.report`: results/bench.json, results/bench.png, the
  printed tables;
- :mod:`tools.bench.__main__`: ``python -m tools.bench`` (``make bench``);
- :mod:`tools.bench.profile`: where the time goes per message, in one process
  (``python -m tools.bench.profile``).

``held_out_questions`` and ``conversation`` stay importable from here: the
system tests draw their varied conversations with them.
"""

from tools.bench.pools import conversation, held_out_questions

__all__ = ["conversation", "held_out_questions"]
