"""Keep visitors' phone numbers, e-mail addresses and names out of the logs.

:class:`PiiFilter` masks phone-like digit runs (7+ digits, with the usual
separators), e-mail addresses, the values of the callback form's slots wherever
a log line spells them out (Rasa's ``SlotSet(key: callback_name, value: ...)``,
its slot dump, ``"callback_time": "..."``), the names visitors gave for a callback
(:func:`remember_name`) and their other answers to the form
(:func:`remember_phrase`), also JSON-escaped as Rasa's structured log lines
carry them, and credentials in URLs (``?access_token=...``). :func:`install`
attaches it to every existing handler and wraps the log-record factory, so
handlers added later (Sanic's, pytest's) get redacted records too. The action
server installs it at start-up, the Rasa server too (``channels.log_redaction``).
This is a safety net: the actions never log slot values anyway.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar, Token
from re import Pattern
from typing import Any

PHONE_MASK = "[phone]"
NAME_MASK = "[name]"
EMAIL_MASK = "[email]"
ANSWER_MASK = "[callback answer]"
_MAX_CONVERSATIONS = 10_000  # conversations whose answers are remembered
_MAX_PER_CONVERSATION = 64  # texts remembered per conversation
_MAX_GLOBAL = 200  # texts remembered for every log line (no conversation known)
_TTL_SECONDS = 6 * 3600.0  # a conversation's answers are forgotten after this
_MIN_PHRASE = 4  # shorter answers ("no", "ok") would mask ordinary words

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
SECRET_MASK = "[secret]"  # noqa: S105 - the mask, not a secret
# Credentials in a URL's query, as HTTP client libraries log it at DEBUG
# (Messenger's "POST /me/messages?access_token=...").
_URL_SECRET = re.compile(
    r"([?&](?:access_token|auth_token|token|api_key|key|secret)=)[^&\s\"'#]+",
    re.IGNORECASE,
)

# The callback form's slots, and the mask of each one's value.
FORM_SLOT_MASKS = {
    "callback_name": NAME_MASK,
    "callback_phone": PHONE_MASK,
    "callback_time": ANSWER_MASK,
}
_SLOT = "(" + "|".join(FORM_SLOT_MASKS) + ")"
_EMPTY_VALUES = ("", "None", "null")
# "SlotSet(key: callback_name, value: Jane Doe)": the value ends at the ")" that
# closes the event (followed by a quote, comma, bracket or the end of the line).
_SLOTSET_VALUE = re.compile(
    r"(SlotSet\(key: " + _SLOT + r", value: )(.*?)(?=\)(?:[\"',\]\n]|\\n|$))"
)
# "callback_name: Jane Doe" in Rasa's slot dump (one slot a line, "\n"-escaped
# inside its JSON log lines).
_DUMP_VALUE = re.compile(
    r"(?:(?<=\\[nt])|(?<![\w\"']))" + _SLOT + r"(: )(.*?)(?=\\[nt]|[\n\"]|$)"
)
# "callback_name": "Jane Doe" / 'callback_name': 'Jane Doe' / \"callback_name\": ...
_QUOTED_VALUE = [
    re.compile("(" + q + _SLOT + q + r": ?" + q + ")(" + body + ")(" + q + ")")
    for q, body in [
        ('"', r'(?:[^"\\]|\\.)*'),
        ("'", r"(?:[^'\\]|\\.)*"),
        (r'\\"', r'.*?(?=\\")'),
    ]
]

# A digit, then at least six more digits, each optionally preceded by up to three
# separator characters: "(213) 555-0142", "+1 213.555.0142", "2135550142",
# "213_555_0142", "213,555,0142".
_PHONE = re.compile(r"\+?\(?\d(?:[\s().\-/_,]{0,3}\d){6,}")
# ...but not a decimal such as a confidence (0.9898443222045898) in Rasa's logs
# ("213.5550142" is a phone number: seven digits after the point).
_DECIMAL = re.compile(r"[01]\.\d{5,}|\d{1,3}\.\d{8,}")
# Digits written as words: seven or more of them ("two one three five five five
# zero one four two", "2 1 3 five five five ...").
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)"
_PHONE_WORDS = re.compile(
    r"(?<![\w-])" + _DIGIT_WORD + r"(?:[\s,.\-]{1,3}" + _DIGIT_WORD + r"){6,}(?![\w-])",
    re.IGNORECASE,
)
# "jane at example dot com", "jane (at) example (dot) org", "jane[at]example.com"
EMAIL_WORDS_RE = re.compile(
    r"[\w.+-]+\s*(?:\(at\)|\[at\]|\{at\}|\s+at\s+)\s*[\w-]+"
    r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\s+dot\s+|\.)\s*[a-z]{2,})+\b",
    re.IGNORECASE,
)
_TLD_WORD = re.compile(r"(?:\(dot\)|\[dot\]|\{dot\}|\sdot\s)", re.IGNORECASE)


def _mask_phone(match: re.Match[str]) -> str:
    return match.group(0) if _DECIMAL.fullmatch(match.group(0)) else PHONE_MASK


def _mask_phone_words(match: re.Match[str]) -> str:
    # at least one digit written as a word (seven bare digits are _PHONE's)
    return (
        PHONE_MASK
        if re.search(r"[a-z]", match.group(0), re.IGNORECASE)
        else match.group(0)
    )


def _mask_email_words(match: re.Match[str]) -> str:
    text = match.group(0)
    spelled = _TLD_WORD.search(text) or re.search(r"\(at\)|\[at\]|\{at\}", text)
    mail_domain = re.search(
        r"\.(?:com|org|net|edu|gov|us|io|co|info|me|uk)$", text, re.I
    )
    return EMAIL_MASK if spelled or mail_domain else text


class _Remembered:
    """The texts to mask for one conversation: text -> mask, one pattern.

    The pattern is compiled when the texts change (a validated answer), never
    per log line; a conversation holds a handful of texts.
    """

    def __init__(self) -> None:
        self.masks: OrderedDict[str, str] = OrderedDict()  # casefolded -> mask
        self.pattern: Pattern[str] | None = None
        self.expires = 0.0

    def add(self, candidates: set[str], mask: str, limit: int) -> None:
        changed = False
        for candidate in candidates:
            for variant in _variants(candidate):
                key = variant.casefold()
                if key not in self.masks or (
                    self.masks[key] != mask and self.masks[key] != NAME_MASK
                ):  # a name stays a name
                    self.masks[key] = mask
                    changed = True
                self.masks.move_to_end(key)
        while len(self.masks) > limit:
            self.masks.popitem(last=False)
            changed = True
        if changed:
            self.pattern = _pattern(self.masks)

    def sub(self, text: str) -> str:
        if self.pattern is None:
            return text
        masks = self.masks
        return self.pattern.sub(
            lambda m: masks.get(" ".join(m.group(0).split()).casefold(), NAME_MASK),
            text,
        )


def _pattern(texts: Iterable[str]) -> Pattern[str] | None:
    alternatives = sorted(texts, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(n).replace("\\ ", r"\s+") for n in alternatives)
        + r")(?!\w)",
        re.IGNORECASE,
    )


#: conversation id -> what to mask in its log lines ("" = every log line)
_remembered: OrderedDict[str, _Remembered] = OrderedDict()
_names_lock = threading.Lock()
#: the conversation being handled in this task, and its current form answer
_current: ContextVar[tuple[str, Pattern[str] | None, str]] = ContextVar(
    "redact_current", default=("", None, ANSWER_MASK)
)


def _variants(text: str) -> set[str]:
    """``text`` as a log line may carry it: as is, spaces collapsed, JSON-escaped."""
    found = {text, " ".join(text.split())}
    return found | {json.dumps(v)[1:-1] for v in found}


def _remember(candidates: set[str], mask: str, conversation: str | None) -> None:
    key = _current.get()[0] if conversation is None else conversation
    limit = _MAX_GLOBAL if not key else _MAX_PER_CONVERSATION
    now = time.monotonic()
    with _names_lock:
        remembered = _remembered.pop(key, None) or _Remembered()
        remembered.add(candidates, mask, limit)
        remembered.expires = now + _TTL_SECONDS
        _remembered[key] = remembered  # most recently used last
        while _remembered:
            oldest_key, oldest = next(iter(_remembered.items()))
            if oldest.expires > now and len(_remembered) <= _MAX_CONVERSATIONS:
                break
            del _remembered[oldest_key]


def remember_name(name: str | None, conversation: str | None = None) -> None:
    """Mask ``name`` (and each 3+ letter part of it) in later log lines of
    ``conversation`` (default: the one being handled; none: every log line)."""
    if not name:
        return
    candidates = {name.strip()} | {p for p in re.split(r"[\s.]+", name) if len(p) >= 3}
    candidates = {c for c in candidates if len(c) >= 2}
    if candidates:
        _remember(candidates, NAME_MASK, conversation)


def remember_phrase(
    text: str | None, mask: str = ANSWER_MASK, conversation: str | None = None
) -> None:
    """Mask the whole of ``text`` (a validated answer to the callback form)."""
    phrase = " ".join(str(text or "").split())
    if len(phrase) >= _MIN_PHRASE:
        _remember({phrase}, mask, conversation)


@contextlib.contextmanager
def handling(
    conversation: str, answer: str | None = None, mask: str = ANSWER_MASK
) -> Iterator[None]:
    """Log lines in this block belong to ``conversation``; ``answer`` (the raw
    text of the message being handled, while the form asks for personal data)
    is masked in them, and forgotten afterwards."""
    token = begin(conversation, answer, mask)
    try:
        yield
    finally:
        _current.reset(token)


def begin(
    conversation: str, answer: str | None = None, mask: str = ANSWER_MASK
) -> Token[tuple[str, Pattern[str] | None, str]]:
    """From now on in this task (a request's, an event handler's), log lines
    belong to ``conversation`` and ``answer`` is masked in them. The Rasa
    server calls it as each message arrives: the request's task then parses,
    predicts, runs actions and logs for that message alone."""
    phrase = " ".join(str(answer or "").split())
    pattern = _pattern(_variants(phrase)) if len(phrase) >= _MIN_PHRASE else None
    return _current.set((conversation, pattern, mask))


def forget_names() -> None:
    with _names_lock:
        _remembered.clear()


def _mask_form_slots(text: str) -> str:
    if "callback_" not in text:
        return text

    def slotset(match: re.Match[str]) -> str:
        if match.group(3).strip() in _EMPTY_VALUES:
            return match.group(0)
        return match.group(1) + FORM_SLOT_MASKS[match.group(2)]

    def dump(match: re.Match[str]) -> str:
        if match.group(3).strip() in _EMPTY_VALUES:
            return match.group(0)
        return match.group(1) + match.group(2) + FORM_SLOT_MASKS[match.group(1)]

    def quoted(match: re.Match[str]) -> str:
        if match.group(3).strip() in _EMPTY_VALUES:
            return match.group(0)
        return match.group(1) + FORM_SLOT_MASKS[match.group(2)] + match.group(4)

    text = _SLOTSET_VALUE.sub(slotset, text)
    text = _DUMP_VALUE.sub(dump, text)
    for pattern in _QUOTED_VALUE:
        text = pattern.sub(quoted, text)
    return text


def mask_contacts(text: str) -> str:
    """Phone numbers and e-mail addresses in ``text``, masked, in every
    spelling this module knows (digits as words, "jane at example dot com")."""
    text = EMAIL_WORDS_RE.sub(_mask_email_words, EMAIL_RE.sub(EMAIL_MASK, text))
    return _PHONE_WORDS.sub(_mask_phone_words, _PHONE.sub(_mask_phone, text))


def redact(text: str) -> str:
    """Mask phone numbers, e-mail addresses, the callback form's answers,
    remembered names and phrases, and credentials in URLs in ``text``."""
    text = _mask_form_slots(text)
    text = _URL_SECRET.sub(r"\1" + SECRET_MASK, text)
    text = mask_contacts(text)
    conversation, answer, answer_mask = _current.get()
    if answer is not None:
        text = answer.sub(answer_mask, text)
    for key in {conversation, ""}:
        remembered = _remembered.get(key)
        if remembered is not None:
            text = remembered.sub(text)
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
