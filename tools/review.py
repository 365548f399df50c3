"""`make review`: what visitors asked, and what the assistant was unsure of.

Reads the conversations in the tracker store (SQLite by default, or any
SQLAlchemy URL, e.g. PostgreSQL) and writes:

- ``var/review/report.html``: messages the assistant was unsure of or did not
  understand (confidence below the threshold, or the fallback), grouped by
  similarity, each with the topic it guessed and its confidence; how often each
  topic was asked; handoffs by level over time (a chart);
- ``var/review/review.yml``: the same messages, each with an empty ``topic:`` for
  staff to fill in; ``make accept-review`` then adds them to the training data.

Personal data never reaches either file: answers given inside the callback form
are left out, phone numbers, e-mail addresses and names are masked (names given
to the form, US census first names, "my name is ...", capitalised words that are
not in the assistant's vocabulary). Both files stay under var/ (never committed):
they are still visitors' words about their health.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import json
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from common.data import normalise
from common.parse import chosen
from common.paths import ROOT
from common.redact import EMAIL_RE
from common.redact import redact as mask_phones

#: Messages the model was less sure of than this are listed for staff. 0.8, not
#: 0.7: on the real-visitor set (tests/real/) wrong topics often come at 0.7 to
#: 0.9 ("do u guys let people bring their dog" -> about_center at 0.71).
DEFAULT_THRESHOLD = 0.8
GROUP_SIMILARITY = 0.45
OUT = ROOT / "var" / "review"
# "my name is X": X is a name whatever it looks like
STRONG_INTRO_RE = re.compile(
    r"\b(?:my name is|my name's|name is|i am called|im called|i'm called|"
    r"call me)\s+$"
)
# "I'm X", "this is X": X is a name only if it looks like one
WEAK_INTRO_RE = re.compile(r"\b(?:i'm|i’m|im|i am|this is|it's|it is)\s+$")
# "my son X", "my wife X": X is a name if it looks like one
RELATION_RE = re.compile(
    r"\b(?:my|our|his|her)\s+(?:son|daughter|wife|husband|partner|brother|sister|"
    r"mom|mum|mother|dad|father|friend|boyfriend|girlfriend|fiance|fiancee|"
    r"aunt|uncle|cousin|niece|nephew|grandson|granddaughter|child|kid)\s+$"
)
# words after an intro that are not names ("call me at ...", "I'm a ...")
STOP_AFTER_INTRO = {"at", "on", "back", "a", "an", "the", "by", "when", "if",
                    "please", "asap", "now", "later", "tomorrow", "today"}  # fmt: skip
WORD_RE = re.compile(r"[^\W\d_][^\W\d_'’-]*")
ALWAYS_KEEP = {
    "i",
    "klonopin",
    "clonazepam",
    "xanax",
    "valium",
    "ativan",
    "benzo",
    "benzos",
}


@dataclass
class Message:
    sender: str
    text: str
    guess: str
    confidence: float
    timestamp: float

    @property
    def id(self) -> str:
        return "m" + hashlib.sha256(normalise(self.text).encode()).hexdigest()[:10]


@dataclass
class Review:
    conversations: int = 0
    messages: int = 0
    unsure: list[Message] = field(default_factory=list)
    topics: Counter[str] = field(default_factory=Counter)
    handoffs: list[tuple[float, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- masking


# First names common among visitors today that the 1990 US census lists miss.
EXTRA_FIRST_NAMES = {
    "aaliyah", "aarav", "aiden", "amir", "ananya", "arjun", "ayesha", "brayden",
    "deshawn", "destiny", "fatima", "hassan", "imani", "jayden", "kayden",
    "keisha", "khalid", "liam", "mohammed", "muhammad", "nevaeh", "priya",
    "rahul", "santiago", "sofia", "yusuf", "zainab", "ximena", "mateo",
}  # fmt: skip


def first_names() -> set[str]:
    import names  # US census first names, shipped as data files in the package

    folder = Path(names.__file__).parent
    found: set[str] = set(EXTRA_FIRST_NAMES)
    for name in ("dist.male.first", "dist.female.first"):
        for line in (folder / name).read_text().splitlines():
            if line.strip():
                found.add(line.split()[0].lower())
    return found


def vocabulary(root: Path = ROOT) -> set[str]:
    """Every word the assistant's own data uses (training, tests, answers)."""
    words: set[str] = set()
    files = list((root / "data").rglob("*.yml")) + list(
        (root / "tests" / "nlu").glob("*.yml")
    )
    for path in files + [root / "domain.yml"]:
        words.update(
            w.lower() for w in WORD_RE.findall(path.read_text(encoding="utf-8"))
        )
    return words


class Masker:
    """Masks personal data by context, not by capital letters.

    A name is masked where the context says it is one: after "my name is",
    "call me", "I'm", "this is" (the last ones only before a capitalised word
    or a first name outside the assistant's vocabulary), the callback form's
    answers of the conversation, a first name from the US census list that is
    not a word the assistant uses, and the word after a masked name unless it
    is a word the assistant uses (a surname: "my son john smith"). Phone
    numbers and e-mail addresses in every spelling ``common/redact.py`` knows.
    A question in Title Case or capitals stays readable.
    """

    def __init__(self, known_words: set[str], names: set[str]) -> None:
        self.known = known_words | ALWAYS_KEEP
        self.names = names

    def _unknown(self, lower: str) -> bool:
        return lower not in self.known

    def __call__(self, text: str, conversation_names: Iterable[str] = ()) -> str:
        text = mask_phones(text)
        text = EMAIL_RE.sub("[email]", text)
        personal = {
            part.lower()
            for name in conversation_names
            for part in re.split(r"[\s.]+", name)
            if len(part) >= 2
        }
        words = list(WORD_RE.finditer(text))
        masked = [False] * len(words)
        for i, match in enumerate(words):
            word = match.group(0)
            lower = word.lower().strip("'’-")
            before = text[: match.start()].lower()
            strong = STRONG_INTRO_RE.search(before) is not None
            weak = (
                WEAK_INTRO_RE.search(before) is not None
                or RELATION_RE.search(before) is not None
            )
            if word == "name" and text[match.start() - 1 : match.start()] == "[":
                continue  # a mask already there
            masked[i] = (
                lower in personal
                or (strong and lower not in STOP_AFTER_INTRO
                    and (self._unknown(lower) or lower in self.names))
                or (weak and (word[:1].isupper() or lower in self.names)
                    and self._unknown(lower))
                or (lower in self.names and self._unknown(lower))
                or (i > 0 and masked[i - 1] and self._unknown(lower)
                    and _adjacent(text, words[i - 1], match))
            )  # fmt: skip
        out: list[str] = []
        last = 0
        for i, match in enumerate(words):
            out.append(text[last : match.start()])
            out.append("[name]" if masked[i] else match.group(0))
            last = match.end()
        out.append(text[last:])
        return "".join(out)


def _adjacent(text: str, first: re.Match[str], second: re.Match[str]) -> bool:
    """Two words with only spaces between them (a first name and a surname)."""
    return not text[first.end() : second.start()].strip()


# --------------------------------------------------------------------------- reading


def load_events(url: str) -> dict[str, list[dict[str, Any]]]:
    """Events per conversation from Rasa's SQL tracker store (table ``events``)."""
    import sqlalchemy as sa

    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise FileNotFoundError(
            f"no tracker store at {url[len('sqlite:///'):]} -- run the assistant (make run) first, "
            "or pass --db"
        )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT sender_id, type_name, timestamp, data FROM events ORDER BY sender_id, id"
                )
            ).fetchall()
    finally:
        engine.dispose()
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sender, type_name, timestamp, data in rows:
        event = json.loads(data) if data else {}
        event.setdefault("event", type_name)
        event.setdefault("timestamp", timestamp)
        conversations[sender].append(event)
    return conversations


def review(
    conversations: dict[str, list[dict[str, Any]]], masker: Masker, threshold: float
) -> Review:
    result = Review(conversations=len(conversations))
    for sender, events in conversations.items():
        names = [
            str(e.get("value"))
            for e in events
            if e.get("event") == "slot"
            and e.get("name") == "callback_name"
            and e.get("value")
        ]
        in_form = False
        for event in events:
            kind = event.get("event")
            if kind == "active_loop":
                in_form = event.get("name") == "callback_form"
            elif kind == "action" and str(event.get("name", "")).startswith(
                "action_handoff_"
            ):
                result.handoffs.append(
                    (
                        float(event.get("timestamp") or 0),
                        event["name"][len("action_handoff_") :],
                    )
                )
            elif kind == "user":
                text = str(event.get("text") or "")
                parse = event.get("parse_data") or {}
                guess, confidence = chosen(parse, behind_fallback=True)
                result.messages += 1
                if guess:
                    result.topics[guess] += 1
                if in_form or not text.strip() or text.startswith("/"):
                    continue  # callback answers are personal; buttons are not wordings
                fallback = (parse.get("intent") or {}).get("name") == "nlu_fallback"
                if fallback or confidence < threshold:
                    result.unsure.append(
                        Message(
                            sender,
                            masker(text, names),
                            guess,
                            confidence,
                            float(event.get("timestamp") or 0),
                        )
                    )
    return result


# --------------------------------------------------------------------------- grouping


def group(messages: list[Message]) -> list[list[Message]]:
    """Similar wordings together (character n-gram TF-IDF, cosine)."""
    unique: dict[str, Message] = {}
    for message in messages:
        unique.setdefault(normalise(message.text), message)
    items = list(unique.values())
    if not items:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(
        [normalise(m.text) for m in items]
    )
    groups: list[list[int]] = []
    for i in range(len(items)):
        best, best_score = None, GROUP_SIMILARITY
        for g, members in enumerate(groups):
            score = float((matrix[i] @ matrix[members].T).toarray().mean())
            if score >= best_score:
                best, best_score = g, score
        if best is None:
            groups.append([i])
        else:
            groups[best].append(i)
    result = [[items[i] for i in members] for members in groups]
    return sorted(result, key=lambda g: (-len(g), g[0].text))


# --------------------------------------------------------------------------- writing


def handoff_chart(handoffs: list[tuple[float, str]]) -> str:
    """A PNG (base64) of handoffs per day and level; '' when there are none."""
    if not handoffs:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = sorted(
        {datetime.fromtimestamp(t, tz=timezone.utc).date() for t, _ in handoffs}
    )
    levels = ["emergency", "crisis", "admissions"]
    colours = {"emergency": "#b42318", "crisis": "#7a2e0e", "admissions": "#0b5394"}
    counts = {lv: [0] * len(days) for lv in levels}
    for t, level in handoffs:
        if level in counts:
            counts[level][
                days.index(datetime.fromtimestamp(t, tz=timezone.utc).date())
            ] += 1
    fig, ax = plt.subplots(figsize=(7, 3))
    bottom = [0] * len(days)
    labels = [d.isoformat() for d in days]
    for level in levels:
        ax.bar(labels, counts[level], bottom=bottom, label=level, color=colours[level])
        bottom = [b + c for b, c in zip(bottom, counts[level], strict=True)]
    ax.set_ylabel("handoffs")
    ax.set_title("Handoffs by level per day (UTC)")
    ax.legend()
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def write_html(
    result: Review, groups: list[list[Message]], threshold: float, path: Path
) -> None:
    e = html.escape
    chart = handoff_chart(result.handoffs)
    rows = []
    for number, members in enumerate(groups, start=1):
        for m in members:
            rows.append(
                f"<tr><td>{number}</td><td>{e(m.text)}</td><td>{e(m.guess or '-')}</td>"
                f"<td>{m.confidence:.2f}</td><td><code>{m.id}</code></td></tr>"
            )
    topics = "".join(
        f"<tr><td>{e(topic)}</td><td>{count}</td></tr>"
        for topic, count in result.topics.most_common()
    )
    by_level = Counter(level for _, level in result.handoffs)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conversation review</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}}th{{background:#eef2f6}}</style></head>
<body><h1>Conversation review</h1>
<p>Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. {result.conversations} conversations,
{result.messages} visitor messages, {len(result.unsure)} unsure or not understood
(confidence below {threshold:.2f}) in {len(groups)} groups. Names, phone numbers and e-mail
addresses are masked; answers to the callback form are left out.</p>
<p>To teach the assistant: open <code>var/review/review.yml</code>, set <code>topic:</code> for
the messages you recognise (for example <code>faq/withdrawal</code>, or a new
<code>faq/&lt;topic&gt;</code>), then run <code>make accept-review</code>. See docs/staff-guide.md.</p>
<h2>Unsure or not understood, grouped by similarity</h2>
<table><tr><th>group</th><th>message</th><th>guessed topic</th><th>confidence</th><th>id</th></tr>
{''.join(rows) or '<tr><td colspan="5">Nothing to review.</td></tr>'}</table>
<h2>How often each topic was asked</h2>
<table><tr><th>topic or intent</th><th>messages</th></tr>{topics}</table>
<h2>Handoffs by level over time</h2>
<p>{', '.join(f'{level}: {count}' for level, count in sorted(by_level.items())) or 'No handoffs.'}</p>
{f'<img alt="Handoffs by level per day" src="data:image/png;base64,{chart}">' if chart else ''}
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def write_review_file(groups: list[list[Message]], path: Path) -> int:
    """review.yml: one item per message; labels already given are kept."""
    old: dict[str, str] = {}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        old = {
            str(i.get("id")): str(i.get("topic") or "") for i in data.get("items") or []
        }
    items = [
        {
            "id": m.id,
            "group": number,
            "text": m.text,
            "guess": m.guess or "",
            "confidence": round(m.confidence, 2),
            "topic": old.get(m.id, ""),
        }
        for number, members in enumerate(groups, start=1)
        for m in members
    ]
    header = (
        "# Conversation review (make review). For each message you recognise, set\n"
        "# topic: to an FAQ topic (faq/withdrawal), a new one (faq/<new_topic>), or\n"
        "# another intent (admissions, emergency, crisis, ...); leave it empty to skip.\n"
        "# Then run `make accept-review`. Visitors' words: never commit this file.\n"
    )
    path.write_text(
        header + yaml.safe_dump({"items": items}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return len(items)


def default_db() -> str:
    if os.environ.get("TRACKER_DB_URL"):
        return os.environ["TRACKER_DB_URL"]
    db = Path(os.environ.get("TRACKER_DB") or "var/tracker.sqlite3")
    return f"sqlite:///{db if db.is_absolute() else ROOT / db}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Review conversations from the tracker store"
    )
    parser.add_argument(
        "--db",
        default=None,
        help="SQLAlchemy URL (default: TRACKER_DB_URL, or sqlite TRACKER_DB)",
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not 0 < args.threshold <= 1:
        print("review: --threshold must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        conversations = load_events(args.db or default_db())
    except FileNotFoundError as error:
        print(f"review: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a database error: say which, without a traceback
        print(
            f"review: cannot read the tracker store: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 2
    masker = Masker(vocabulary(), first_names())
    result = review(conversations, masker, args.threshold)
    groups = group(result.unsure)
    args.out.mkdir(parents=True, exist_ok=True)
    write_html(result, groups, args.threshold, args.out / "report.html")
    count = write_review_file(groups, args.out / "review.yml")
    print(
        f"review: {result.conversations} conversations, {result.messages} messages, "
        f"{count} to review in {len(groups)} groups, {len(result.handoffs)} handoffs\n"
        f"  report: {args.out / 'report.html'}\n  label:  {args.out / 'review.yml'} then `make accept-review`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
