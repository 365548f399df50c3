"""Channels of the assistant: the website widget (socket.io) and messaging apps.

Each class subclasses Rasa's own channel and closes a gap of it: request
verification (Twilio signatures, Telegram's secret token), a handoff payload the
channel can show, buttons where the platform has none, and send APIs whose base
URL can be pointed at a local fake in the tests.
"""
