"""Keep visitors' phone numbers and names out of the logs.

:class:`PiiFilter` masks phone-like digit runs (7+ digits, with the usual
separators) and the names visitors gave for a callback. :func:`install` attaches
it to every existing handler and wraps the log-record factory, so handlers added
later (Sanic's, pytest's) get redacted records too. The action server installs it
at start-up. This is a safety net: the actions never log slot values anyway.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from re import Pattern
from typing import Any

PHONE_MASK = "[phone]"
NAME_MASK = "[name]"
_MAX_NAMES = 5000

# A digit, then at least six more digits, each optionally preceded by up to three
# separator characters: "(213) 555-0142", "+1 213.555.0142", "2135550142".
_PHONE = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d){6,}")

_names: OrderedDict[str, None] = OrderedDict()
_names_lock = threading.Lock()
_names_pattern: Pattern[str] | None = None


def remember_name(name: str | None) -> None:
    """Mask ``name`` (and each 3+ letter part of it) in every later log line."""
    global _names_pattern
    if not name:
        return
    candidates = {name.strip()} | {p for p in re.split(r"[\s.]+", name) if len(p) >= 3}
    candidates = {c for c in candidates if len(c) >= 2}
    if not candidates:
        return
    with _names_lock:
        for candidate in candidates:
            _names[candidate.casefold()] = None
            _names.move_to_end(candidate.casefold())
        while len(_names) > _MAX_NAMES:
            _names.popitem(last=False)
        alternatives = sorted(_names, key=len, reverse=True)
        _names_pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(n) for n in alternatives) + r")(?!\w)",
            re.IGNORECASE,
        )


def forget_names() -> None:
    global _names_pattern
    with _names_lock:
        _names.clear()
        _names_pattern = None


def redact(text: str) -> str:
    """Mask phone numbers and remembered names in ``text``."""
    text = _PHONE.sub(PHONE_MASK, text)
    pattern = _names_pattern
    if pattern is not None:
        text = pattern.sub(NAME_MASK, text)
    return text


class PiiFilter(logging.Filter):
    """Rewrites each record's message, traceback and stack text, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None  # force handlers to use the redacted text
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._pii_redacted = True
        return True


_install_lock = threading.Lock()
_installed_filter: PiiFilter | None = None
_previous_factory: Callable[..., logging.LogRecord] | None = None


def _all_handlers() -> list[logging.Handler]:
    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.extend(logger.handlers)
    return handlers


def install() -> PiiFilter:
    """Install the filter process-wide (idempotent); returns it."""
    global _installed_filter, _previous_factory
    with _install_lock:
        if _installed_filter is not None:
            for handler in _all_handlers():
                if _installed_filter not in handler.filters:
                    handler.addFilter(_installed_filter)
            return _installed_filter
        pii_filter = PiiFilter()
        for handler in _all_handlers():
            handler.addFilter(pii_filter)
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            pii_filter.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed_filter, _previous_factory = pii_filter, previous
        return pii_filter


def uninstall() -> None:
    """Undo :func:`install` (used by tests)."""
    global _installed_filter, _previous_factory
    with _install_lock:
        if _installed_filter is None:
            return
        for handler in _all_handlers():
            handler.removeFilter(_installed_filter)
        if _previous_factory is not None:
            logging.setLogRecordFactory(_previous_factory)
        _installed_filter, _previous_factory = None, None
