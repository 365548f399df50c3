"""Where the Rasa server keeps conversations and locks.

Plugged in by ``type:`` class paths in ``endpoints.yml`` and
``deploy/endpoints.scale.yml``: ``LeanSQLTrackerStore``, ``SQLiteLockStore``,
``RedisLockStore``. ``tracker_guard`` refuses a start without the store.
"""
