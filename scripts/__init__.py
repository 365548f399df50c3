"""Project scripts (set-up, training, evaluation, staff tools). Run them as files; tests import them as modules."""
