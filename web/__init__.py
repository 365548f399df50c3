"""The demo website page and its server (web/server.py)."""
