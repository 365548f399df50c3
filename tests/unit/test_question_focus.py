"""QuestionFocus: a long message is classified by what it asks, then put back whole."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_server.nlu.question_focus import (
    QuestionFocus,
    WholeMessage,
    focus,
    is_question,
    sentences,
)

STORY = (
    "I have been on klonopin for about six years for panic attacks. My new doctor "
    "wants me off it and I am scared because my sister had a seizure coming off "
    "xanax. Last week I skipped a day and felt awful. Is it dangerous to stop all "
    "at once? Thanks for reading this."
)


def test_a_long_story_is_narrowed_to_the_question_and_the_sentence_before() -> None:
    assert focus(STORY) == (
        "Last week I skipped a day and felt awful. "
        "Is it dangerous to stop all at once?"
    )


@pytest.mark.parametrize(
    "text",
    [
        "is klonopin addictive?",  # short
        "My mother takes clonazepam every night and sleeps most of the day now, "
        "and she forgets things and I think she takes more than she says she does.",
        "Two sentences only, but long enough to pass the word limit of the focus "
        "component. So what happens when I stop taking clonazepam suddenly?",
    ],
)
def test_short_messages_and_messages_without_a_question_stay_whole(text: str) -> None:
    assert focus(text) == text


def test_sentences_and_questions() -> None:
    assert sentences("One. Two?\nThree!  Four") == ["One.", "Two?", "Three!", "Four"]
    assert is_question("can you mix it with wine")
    assert is_question("I was wondering about detox")
    assert not is_question("I take it every day.")


def test_the_whole_text_is_put_back_after_the_classifiers() -> None:
    message = Message(data={"text": STORY})
    QuestionFocus({}).process([message])
    assert message.get("text").startswith("Last week")
    assert message.get("full_text") == STORY
    WholeMessage().process([message])
    assert message.get("text") == STORY
    assert message.get("full_text") is None


def test_training_phrasings_are_focused_the_same_way() -> None:
    data = TrainingData([Message(data={"text": STORY, "intent": "faq"})])
    QuestionFocus({}).process_training_data(data)
    assert data.training_examples[0].get("text") == focus(STORY)


@pytest.mark.parametrize("bad", [0, "25", 2.5, True])
def test_a_bad_min_words_is_refused_with_a_fix(bad: Any) -> None:
    with pytest.raises(ValueError, match="min_words"):
        QuestionFocus({"min_words": bad})
