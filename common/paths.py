"""Where the project's files are, from the repository root."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DOMAIN = ROOT / "domain.yml"
CONFIG = ROOT / "config.yml"
DATA = ROOT / "data"
NLU = DATA / "nlu"
RESPONSES = DATA / "responses"
STORIES = DATA / "stories"
RULES = DATA / "rules"
KNOWLEDGE = ROOT / "knowledge"
GROUNDING = KNOWLEDGE / "grounding.yml"
ARTICLE = KNOWLEDGE / "source" / "clonazepam-abuse-and-addiction.txt"
CONTACTS = ROOT / "config" / "contacts.yml"
TESTS = ROOT / "tests"
HELD_OUT = TESTS / "nlu"
TEST_STORIES = TESTS / "stories"
VAR = ROOT / "var"
