"""Tests of the crisis safety net (rasa_server/safety_net/).

Two layers are tested:

* ``assess(text)`` alone, without any classifier: it must catch every emergency /
  crisis example of the held-out file tests/nlu/urgent_test.yml and of the training
  file data/nlu/urgent.yml, stay silent on every FAQ trap of
  tests/nlu/traps_test.yml and on the other urgent-file intents, and handle slang,
  typos, negation and odd input.
* ``SafetyNet.process`` on real Rasa ``Message`` objects: overriding, ranking,
  leaving correct or text-less messages alone, and surviving FallbackClassifier.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.data import read_phrasings
from rasa_server.safety_net.component import SafetyNet
from rasa_server.safety_net.rules import assess
from rasa_server.safety_net.vocabulary import (
    CRISIS,
    EMERGENCY,
    MAX_CHARS,
    SAFETY_NET_KEY,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRAINING_FILE = PROJECT_ROOT / "data" / "nlu" / "urgent.yml"
HELD_OUT_FILE = PROJECT_ROOT / "tests" / "nlu" / "urgent_test.yml"
TRAPS_FILE = PROJECT_ROOT / "tests" / "nlu" / "traps_test.yml"
# Issue 12's held-out sets
MIXING_FILE = PROJECT_ROOT / "tests" / "nlu" / "mixing_test.yml"
RUNNING_OUT_FILE = PROJECT_ROOT / "tests" / "nlu" / "running_out_test.yml"
PASSIVE_FILE = PROJECT_ROOT / "tests" / "nlu" / "passive_suicidal_test.yml"
ON_PURPOSE_FILE = PROJECT_ROOT / "tests" / "nlu" / "overdose_on_purpose_test.yml"
URGENT = (EMERGENCY, CRISIS)


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs of a Rasa 3 NLU YAML file."""
    return [(p.intent, p.text) for p in read_phrasings(path)]


def _level(text: str | None) -> str | None:
    result = assess(text)
    return result.level if result else None


def _cases(path: Path, urgent: bool) -> list[Any]:
    return [
        pytest.param(intent, text, id=f"{intent}:{text[:50]}")
        for intent, text in load_examples(path)
        if (intent in URGENT) == urgent
    ]


# --------------------------------------------------------------------------------------
# The data files themselves
# --------------------------------------------------------------------------------------


def test_held_out_file_is_held_out() -> None:
    training = {text.lower() for _, text in load_examples(TRAINING_FILE)}
    leaked = [t for _, t in load_examples(HELD_OUT_FILE) if t.lower() in training]
    assert not leaked


@pytest.mark.parametrize(
    "path, minimum",
    [
        (
            TRAINING_FILE,
            {
                "emergency": 40,
                "crisis": 40,
                "admissions": 30,
                "request_callback": 15,
                "stop": 12,
            },
        ),
        (
            HELD_OUT_FILE,
            {
                "emergency": 15,
                "crisis": 15,
                "admissions": 15,
                "request_callback": 8,
                "stop": 8,
            },
        ),
    ],
)
def test_example_counts(path: Path, minimum: dict[str, int]) -> None:
    counts: dict[str, int] = {}
    for intent, _ in load_examples(path):
        counts[intent] = counts.get(intent, 0) + 1
    for intent, needed in minimum.items():
        assert counts.get(intent, 0) >= needed, intent


def test_traps_use_known_faq_labels() -> None:
    allowed = {
        "faq/withdrawal",
        "faq/overdose",
        "faq/uses",
        "faq/stopping",
        "faq/home_detox",
        "faq/long_term",
        "faq/mixing",
        "faq/suicide_risk",
    }
    examples = load_examples(TRAPS_FILE)
    assert len(examples) >= 20
    assert {intent for intent, _ in examples} <= allowed


# --------------------------------------------------------------------------------------
# assess(): recall on the urgent files, silence on traps and other intents
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent, text", _cases(HELD_OUT_FILE, urgent=True))
def test_held_out_urgent_examples_are_caught(intent: str, text: str) -> None:
    assert _level(text) == intent


@pytest.mark.parametrize("intent, text", _cases(TRAINING_FILE, urgent=True))
def test_training_urgent_examples_are_caught(intent: str, text: str) -> None:
    assert _level(text) == intent


@pytest.mark.parametrize("intent, text", _cases(TRAPS_FILE, urgent=False))
def test_traps_do_not_trigger(intent: str, text: str) -> None:
    assert assess(text) is None


def test_no_faq_training_phrasing_trips_the_safety_net() -> None:
    """The safety net overrules the topic, so such a phrasing would teach a topic
    the assistant never answers: write it without danger-now words, or drop it."""
    tripped = [
        f"{p.path.name}:{p.line}: {p.intent} trips the safety net ({result.matched})"
        f" -- reword it without danger happening now, or move it to urgent.yml"
        for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("faq*.yml"))
        for p in read_phrasings(path)
        for result in [assess(p.text)]
        if result is not None
    ]
    assert not tripped, "\n".join(tripped)


@pytest.mark.parametrize(
    "path, intent, minimum",
    [
        (MIXING_FILE, "faq/mixing", 40),
        (RUNNING_OUT_FILE, "faq/running_out", 15),
        (PASSIVE_FILE, "crisis", 30),
        (ON_PURPOSE_FILE, "emergency", 10),
    ],
)
def test_issue_12_held_out_sets(path: Path, intent: str, minimum: int) -> None:
    examples = load_examples(path)
    assert len(examples) >= minimum
    assert {label for label, _ in examples} == {intent}
    training = {text.lower() for _, text in load_examples(TRAINING_FILE)}
    assert not [t for _, t in examples if t.lower() in training]


@pytest.mark.parametrize("intent, text", _cases(PASSIVE_FILE, urgent=True))
def test_passive_suicidal_thoughts_reach_crisis(intent: str, text: str) -> None:
    assert _level(text) == CRISIS


@pytest.mark.parametrize("intent, text", _cases(ON_PURPOSE_FILE, urgent=True))
def test_overdose_on_purpose_is_an_emergency(intent: str, text: str) -> None:
    result = assess(text)
    assert result is not None and result.level == EMERGENCY
    # the suicidal words are found too: the reply adds 988 (urgent_context)
    assert any(
        name in result.matches
        for name in ("want_to_die", "hopeless", "kill_self", "took_on_purpose")
        + ("intends_overdose", "suicidal")
    )


@pytest.mark.parametrize(
    "intent, text",
    _cases(MIXING_FILE, urgent=False) + _cases(RUNNING_OUT_FILE, urgent=False),
)
def test_mixing_and_running_out_questions_are_not_escalated(
    intent: str, text: str
) -> None:
    assert assess(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("is it ok to drink on klonopin", None),
        ("whats the deal with kpins and booze", None),
        ("is it bad to take klonopin with percocet", None),
        ("can i have a glass of wine with my klonopin", None),
        ("can i take my gabapentin with klonopin", None),
        ("i ran out of my klonopin 2 days ago and im shaking really bad", None),
        ("my doctor cut me off my klonopin", None),
        ("what is the lethal dose of klonopin", None),
        ("can withdrawal make you suicidal", None),
        ("i mixed my klonopin with vodka and cant stay awake", EMERGENCY),
        ("she drank and took her pins and now she wont wake up", EMERGENCY),
        ("i ran out of klonopin and now im having a seizure", EMERGENCY),
        ("nobody would notice if i was gone", CRISIS),
        ("i dont want to do this anymore", CRISIS),
        ("i want it all to stop", CRISIS),
        ("i go to bed hoping i wont wake up", CRISIS),
        ("i took all my pills because i want to die", EMERGENCY),
    ],
)
def test_issue_12_examples(text: str, expected: str | None) -> None:
    assert _level(text) == expected


@pytest.mark.parametrize(
    "intent, text",
    _cases(HELD_OUT_FILE, urgent=False) + _cases(TRAINING_FILE, urgent=False),
)
def test_other_urgent_file_intents_do_not_trigger(intent: str, text: str) -> None:
    assert assess(text) is None


# --------------------------------------------------------------------------------------
# assess(): hand-written cases
# --------------------------------------------------------------------------------------

EMERGENCY_CASES = [
    "he took 15 klonopin",
    "I TOOK 20 KLONOPIN",
    "i took 8mg of clonazepam",
    "took the whole bottle",
    "I think my son overdosed",
    "my friend just OD'd",
    "she o.d.'d on klonapin",
    "hes oding",
    "i od'd",
    "i think i od",
    "overdosing",
    "my mom is not breathing",
    "can't breath",
    "cant breathe",
    "she can't breathe",
    "he wont wake up",
    "my daughter won't wake up!!!",
    "i cant wake my husband up",
    "hes snoring weird and we cant wake him",
    "he's gurgling and won't wake",
    "my dad is passed out and wont respond after taking kpins",
    "my boyfriend isn't responding to me he took bars",
    "my uncle is unresponsive",
    "mom unresponsive after klonopin",
    "her lips are blue",
    "help he's blue",
    "my brother is having a seizure",
    "i'm seizing",
    "she is having convulsions",
    "Can someone help, my wife is convulsing",
    "im having withdrawal seizures",
    "he had a seizure an hour ago after stopping clonazepam",
    "ive been off klonopin 5 days and i just had a seizure in the shower",
    "could he be having a seizure",
    "i took klonopin and drank a bunch of vodka",
    "mixed benzos and oxys and now i feel really sleepy",
    "i mixed my kpins with lean",
    "i've been drinking and took 3 klonopin",
    "my husband took his pills with a bottle of wine",
    "i think im dying",
    "im seeing things that arent there since i stopped my klonopin",
    "im literally shaking and seeing shadows after quitting pins",
    "my heart is racing and i quit clonazepam 3 days ago",
    "chest pain and heart pounding after quitting kpins",
    "should i call 911",
    "ambulance",
    "emergency",
    "is this an overdose",
    "is he overdosing",
    "Someone overdosed? what do i do",
    "overdose help",
    "i took all my pills because i want to die",
    "i overdosed on purpose",
    "my sister took like 30 bars what do i do",
    "i took too much",
    "i just took a double dose of my klonopin",
    "i accidentally took my klonopin twice",
    "she swallowed everything in the bottle",
    "what happens if i took 10 klonopin",
    "i swallowed 25 clonazepam an hour ago",
    "i took twenty pills",
    "i took 40mg",
    "my baby got into my pills",
    "Hi, I have a question. My husband took way more clonazepam than he should "
    "have and he's really hard to wake up",
    "should i take her to the er she took too many pins",
    "mi hijo no respira",
    "my son took too many of his pills",
    "he's been throwing up and now he won't wake up",
    "she's breathing weird and wont answer me",
    "my dad is slurring and falling over after mixing his klonopin with beer",
    "what do i do my mom took a whole bottle of clonazepam",
    "my roomate took kpins and alcohol and is barley breathing",
    "his breathing is so slow",
    "my daughter is hallucinating and talking to people who aren't there",
    "i feel like im going to pass out and my heart is racing",
    "i cant feel my body and i cant breathe right",
    "friend not breathing took benzos",
    "Hi, I have a question. My husband took way more clonazepam than he should have and he's really hard to wake up",
    "my son is laying on the floor and not moving, there are klonopin everywhere",
    "i think my mom overdosed shes not making sense and her breathing is weird",
    "my friend is twitching all over and wont answer after taking bars",
    "pls help my gf took like 12 pins and drank",
    "took a handful of klonopin",
    "Hello?? my brother is blue and cold",
    "he's having trouble breathing after taking his pills",
    "Dad stopped klonopin cold turkey and is now having hallucinations and a really fast heartbeat",
    "i think im overdosing on benzos",
    "i drank a lot tonight and took my klonopin, now i cant stop throwing up and feel like passing out",
    "i took 6 mg of klonopin and im scared",
    "my son is passed out on the bathroom floor and his breathing sounds like snoring, he takes klonopin",
    "i took my whole month supply",
    "WIFE TOOK 15 PILLS",
    "she isnt breathing right",
    "my dad fell and hit his head after taking too many klonopins",
    "i feel like my heart is going to explode, stopped benzos yesterday",
    "my brother is shaking and foaming",
    "i think i took to many",
    "she just had another seizure",
    "im tripping balls and seeing stuff after quitting pins",
    "my friend took a bunch of bars and is barely awake",
    "i took 3mg klonopin and 2 ambien and feel really weird",
    "he's blue and not moving",
    "she won't stop seizing",
    "hey my mom is acting really confused and can barely breathe she takes klonopin",
    "help me my boyfriend overdosed",
    "i downed a bottle of clonazepam",
    "my son took 60mg",
    "my husband is not responsive",
    "im od ing rn",
]

CRISIS_CASES = [
    "i want to die",
    "I WANT TO DIE",
    "i want to diiiie",
    "wanna die",
    "i really just want to die",
    "kill myself",
    "killmyself",
    "i'm going to kill myself tonight",
    "kms",
    "kms lol",
    "i'm suicidal",
    "im suicidle",
    "feeling suicidal",
    "suicide",
    "suicidal ideation",
    "i want to end it all",
    "i wanna end it all tonight",
    "im gonna od tonight",
    "no reason to live",
    "there's no reason to live anymore",
    "my son says he wants to die",
    "my son posted that he wants to end it",
    "my wife is talking about killing herself",
    "my girlfriend cuts herself when she's withdrawing",
    "my daughter is self harming",
    "i've been cutting",
    "i cut myself last night",
    "i dont want to be here anymore",
    "i dont want to be alive",
    "i wish i was never born",
    "better off dead",
    "everyone would be better off without me",
    "honestly i think everyone would be better off if i was gone",
    "nobody would miss me if i was gone",
    "i'm a burden to everyone",
    "klonopin is making me suicidal",
    "withdrawal is making me want to die",
    "why do i want to die",
    "how do i kill myself",
    "how many pills to die",
    "i want to take all my pills",
    "im gonna swallow the whole bottle",
    "i'm thinking about overdosing",
    "i'm going to hang myself",
    "i am going to jump off a bridge",
    "i feel so hopeless",
    "im done with life",
    "I'm so tired of living",
    "i cant go on like this",
    "i cant take this anymore",
    "i keep thinking i should just end it",
    "i just want it all to end",
    "i feel like ending it",
    "what's the point of even living",
    "i don't see the point in living",
    "i hope i dont wake up",
    "he doesnt want to live anymore",
    "could this be why im suicidal",
    "my friend is talking about suicide what do i do",
    "i'm stockpiling pills",
    "quiero morirme",
    "i'm thinking of taking my own life",
    "my son is threatening suicide",
    "i've been having thoughts of hurting myself",
    "sometimes i wish i wouldnt wake up",
    "i dont want to exist",
    "what's the point of anything anymore",
    "i want out of this life",
    "everybody would be happier if i was dead",
    "i have a plan to end my life",
    "i'm going to take every pill i have",
    "thinking about swallowing all my klonopin",
    "i wrote a goodbye letter",
    "my friend keeps posting that she wants to die",
    "i tried to kill myself last year and i feel that way again",
    "i'm in a really dark place and thinking about dying",
    "i'm going to end things",
    "can't stop thinking about killing myself",
    "i have been thinking about suicide since i ran out of my pins",
    "i've thought about taking all my klonopin at once",
    "i want to kill myself because of this withdrawal",
    "i feel worthless and want to die",
    "i want to die so bad",
    "im scared im going to hurt myself",
    "i feel like a burden and everyone would be better without me",
    "i've been having dark thoughts about ending my life",
    "i dont want to be on this earth anymore",
    "i want to go to sleep forever",
    "ive been researching ways to kill myself",
    "i keep having thoughts about ending my life",
    "i am suicidal and scared",
    "my daughter left a note saying goodbye",
    "there is no point to anything anymore",
    "im going to do it tonight",
    "i wish i was dead honestly",
    "my husband says life isnt worth living",
    "i have been self-harming since i quit klonopin",
    "i'm thinking of ending it all",
    "i cant live like this anymore",
    "i want to overdose on my klonopin",
    "nobody cares if i live or die",
    "i'm going to kill myself if this withdrawal doesn't stop",
    "my friend says she's going to take all her pills",
    "i just want to not exist",
    "i'm so depressed i want to die",
    "kill me",
]

NEGATION_AND_RECALL_CASES = [
    # (text, expected level): negation cancels only the negated phrase.
    ("im not suicidal, just curious", None),
    ("I'm NOT suicidal. Just asking about side effects.", None),
    ("i dont want to die from withdrawal, can i detox at home", None),
    ("i dont want to kill myself, i want to get clean", None),
    ("i am not going to hurt myself, i just need info", None),
    ("im not gonna od, just want to know the max dose", None),
    ("he is breathing fine now", None),
    ("he's breathing normally now", None),
    ("im scared of having a seizure when i stop", None),
    ("im worried about overdosing", None),
    ("i need to stop taking klonopin before i overdose", None),
    ("i'm not suicidal but i want to end it", CRISIS),
    ("I'm not gonna lie, I want to die", CRISIS),
    ("no, i really do want to die", CRISIS),
    ("i never used to be suicidal until now", CRISIS),
    ("i don't know why but i want to die", CRISIS),
    ("i'm scared because i want to die", CRISIS),
    ("i don't want to live", CRISIS),
    ("i wont lie i want to die", CRISIS),
    ("i dont know i just want to die", CRISIS),
    ("idk i want to die", CRISIS),
    ("not gonna lie i think about killing myself", CRISIS),
    ("im scared im going to hurt myself", CRISIS),
]

NEGATIVE_CASES = [
    "",
    "   ",
    "🙂",
    "שלום",
    "مرحبا",
    "hi",
    "thanks",
    "bye",
    "what is clonazepam",
    "is klonopin addictive",
    "how long does klonopin withdrawal last",
    "can i detox at home",
    "i want to stop taking klonopin",
    "im cutting back on my klonopin dose",
    "ive been cutting my pills in half",
    "my doctor is cutting my dose",
    "im cutting down slowly",
    "i take 2mg a day",
    "i took klonopin for 10 years",
    "ive taken 6mg a day for years",
    "i took my klonopin this morning",
    "i took 1mg last night and slept fine",
    "i took 0.5mg",
    "i took 2 klonopin today",
    "it took 10 minutes to kick in",
    "it took a lot of courage to ask for help",
    "it took everything i had to reach out",
    "i took a lot of klonopin in college",
    "can i drink on klonopin",
    "can i have a glass of wine on klonopin",
    "i drink a beer sometimes while on klonopin is that bad",
    "i used to drink a lot and now i take klonopin",
    "i was prescribed klonopin for alcohol withdrawal",
    "i quit drinking and my doctor put me on klonopin",
    "my husband drinks while taking klonopin every night",
    "my doctor said not to mix klonopin with alcohol",
    "i have never mixed klonopin with alcohol",
    "can you take klonopin and ambien together",
    "are klonopin bars the same as xanax bars",
    "my son had seizures as a kid and takes klonopin",
    "my mom takes klonopin for seizures",
    "i had a seizure 2 years ago when i stopped klonopin, should i taper",
    "my husband had a seizure once years ago",
    "my brother overdosed last year and is in recovery now",
    "my friend overdosed 5 years ago and died, is klonopin that dangerous",
    "i lost my brother to an overdose",
    "my son uses pins and i'm scared he will overdose",
    "this withdrawal is killing me",
    "i'm dying to know if klonopin shows up on a drug test",
    "im dying lol this bot is slow",
    "i could kill for a good night sleep",
    "i want to kill this addiction",
    "i want to end my addiction",
    "i'm tired of living with anxiety",
    "the withdrawal is so bad i cant take it",
    "i cant go on vacation because of withdrawal",
    "can't keep going to work like this",
    "i want to stop living like this, i need detox",
    "i can't wake up in the mornings on klonopin",
    "can klonopin cause breathing problems",
    "does klonopin slow your breathing",
    "can benzos make you stop breathing",
    "difficulty breathing is listed as a side effect",
    "why do people overdose on benzos",
    "how common is klonopin overdose",
    "is klonopin overdose fatal",
    "klonopin overdose",
    "overdose symptoms",
    "withdrawal seizures",
    "how do you know if someone overdosed",
    "i was wondering if you can overdose on klonopin",
    "Is it possible to overdose on 2mg klonopin",
    "can you die if you mix xanax and klonopin",
    "can klonopin withdrawal kill you",
    "can too much klonopin kill you",
    "what is a lethal dose of klonopin",
    "does klonopin make you want to die",
    "will i become suicidal if i quit klonopin",
    "is suicide a side effect of klonopin",
    "does klonopin cause self harm",
    "do people hurt themselves during withdrawal",
    "is it normal to hallucinate during withdrawal",
    "am i going to have seizures if i stop",
    "i'm afraid i'll have a seizure if i stop cold turkey",
    "my wife wants to stop klonopin but is scared of seizures",
    "can you go to the er for withdrawal",
    "do i need to go to the hospital to detox",
    "my son is addicted to klonopin and i need help",
    "i need help getting off klonopin",
    "my name is Odin",
    "that's odd",
    '/open_faq{"faq_topic": "overdose"}',
    "can klonopin help with my anxiety",
    "im so done with klonopin side effects",
    "i want to end my klonopin use",
    "i'm killing it at work since i quit",
    "this detox will be the death of me",
    "i'm not going to die from withdrawal right",
    "my dog died and i've been taking more klonopin",
    "i took my dog to the vet",
    "how do i take my mom to the hospital for detox",
    "my mom went into the hospital for a seizure last year",
    "can stopping klonopin cause a heart attack",
    "my friend told me klonopin saved his life",
    "i want to live a normal life again",
    "i'm in recovery and doing great",
    "is it bad that i cried all day",
    "i'm ready to end my klonopin journey",
    "my son overdosed on heroin 3 years ago and now takes klonopin",
    "i got into a fight with my mom and took my klonopin",
    "i have too many pills left over, how do i dispose of them",
    "it took a lot of time to taper",
    "What happens during klonopin withdrawal?",
    "Is klonopin stronger than xanax",
    "How long should I taper off 2mg klonopin",
    "my mom is 70 and takes klonopin, is it safe long term",
    "I'm scared to stop klonopin",
    "my son is addicted, how do I help him",
    "is it true you can die from benzo withdrawal",
    "what are the dangers of stopping klonopin suddenly",
    "i need to get off klonopin safely",
    "how many people die from benzo overdose each year",
    "what does clonazepam do to your brain",
    "i've been on klonopin for 6 years and want to quit",
    "Does the detox center take medi-cal",
    "how do you know if someone is overdosing on benzos",
    "how do i tell my family im going to detox",
    "can i bring my phone to detox",
    "my heart rate is normal now",
    "is klonopin dangerous for the elderly",
    "i want to stop klonopin but i'm afraid of withdrawal",
    "is it okay to take klonopin with food",
    "why does klonopin make me so tired",
    "how long until i feel normal after stopping klonopin",
    "i relapsed on klonopin last month",
    "my son died of an overdose two years ago and i want to help others",
    "is there a risk of seizures when tapering",
    "what are signs of klonopin addiction",
    "my dad drank and took klonopin for years before getting sober",
    "i took klonopin for anxiety for 5 years",
    "how do i talk to my son about his klonopin use",
    "what's the safest way to get off clonazepam",
    "we lost our daughter to pills last year",
    "does insurance cover benzo detox",
    "how many mg of klonopin to get high",
    "i quit cold turkey a year ago and im fine now",
]


@pytest.mark.parametrize("text", EMERGENCY_CASES)
def test_emergency_cases(text: str) -> None:
    assert _level(text) == EMERGENCY


@pytest.mark.parametrize("text", CRISIS_CASES)
def test_crisis_cases(text: str) -> None:
    assert _level(text) == CRISIS


@pytest.mark.parametrize("text, expected", NEGATION_AND_RECALL_CASES)
def test_negation(text: str, expected: str | None) -> None:
    assert _level(text) == expected


@pytest.mark.parametrize("text", NEGATIVE_CASES)
def test_negative_cases(text: str) -> None:
    assert assess(text) is None


def test_emergency_beats_crisis() -> None:
    result = assess("I took all my pills because I want to die")
    assert result is not None
    assert result.level == EMERGENCY
    assert result.matched == "took_too_many"
    assert "want_to_die" in result.matches


def test_danger_in_a_later_sentence_is_found() -> None:
    text = "can you overdose on klonopin? my friend took 10 and wont wake up"
    result = assess(text)
    assert result is not None and result.level == EMERGENCY


@pytest.mark.parametrize(
    "text",
    [
        None,
        123,
        "\x00\x01",
        "😀" * 10_000,
        "שלום עולם " * 500,
        "a " * 100_000,
        "not " * 5_000,
        "took " * 3_000,
        "how many " * 2_000 + "to die",
    ],
)
def test_odd_input_is_safe_and_fast(text: Any) -> None:
    start = time.perf_counter()
    assess(text)
    assert time.perf_counter() - start < 1.0


def test_only_the_first_max_chars_are_read() -> None:
    assert _level("i want to die " + "x" * MAX_CHARS) == CRISIS
    assert assess("x" * MAX_CHARS + " i want to die") is None


@pytest.mark.parametrize(
    "text", ["Ｉ ｗａｎｔ ｔｏ ｄｉｅ", "\u202ei want to die\u202c", "I want to dïe"]
)
def test_unicode_variants(text: str) -> None:
    assert _level(text) == CRISIS


def test_assessment_is_deterministic() -> None:
    text = "my friend took a bunch of kpins and wont wake up"
    assert {assess(text) for _ in range(5)} == {assess(text)}


# --------------------------------------------------------------------------------------
# SafetyNet graph component on Rasa messages
# --------------------------------------------------------------------------------------


@pytest.fixture
def safety_net(tmp_path: Path) -> SafetyNet:
    return SafetyNet.create(
        SafetyNet.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("safety_net"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def make_message(
    text: str | None,
    intent: str | None = None,
    confidence: float = 0.0,
    ranking: list[tuple[str, float]] | None = None,
) -> Message:
    data: dict[str, Any] = {} if text is None else {TEXT: text}
    message = Message(data=data)
    if intent is not None:
        message.set(
            INTENT, {"name": intent, "confidence": confidence}, add_to_output=True
        )
    if ranking is not None:
        message.set(
            INTENT_RANKING_KEY,
            [{"name": name, "confidence": conf} for name, conf in ranking],
            add_to_output=True,
        )
    return message


def ranking_of(message: Message) -> list[tuple[str, float]]:
    return [(r["name"], r["confidence"]) for r in message.get(INTENT_RANKING_KEY)]


def test_component_is_registered_as_intent_classifier() -> None:
    registered = DefaultV1Recipe._registered_components["SafetyNet"]
    assert registered.clazz is SafetyNet
    assert DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER in registered.types
    assert registered.is_trainable is False


def test_overrides_low_scored_faq_and_keeps_ranking(safety_net: SafetyNet) -> None:
    message = make_message(
        "my friend took a bunch of kpins and wont wake up",
        "faq",
        0.42,
        [("faq", 0.42), ("admissions", 0.3), ("emergency", 0.2), ("greet", 0.08)],
    )
    safety_net.process([message])

    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert ranking_of(message) == [
        ("emergency", 1.0),
        ("faq", 0.42),
        ("admissions", 0.3),
        ("greet", 0.08),
    ]
    assert message.get(SAFETY_NET_KEY) == {
        "level": "emergency",
        "matched": "unresponsive",
        "overrode": "faq",
    }
    output = message.as_dict(only_output_properties=True)
    assert output[SAFETY_NET_KEY]["overrode"] == "faq"
    assert output[INTENT]["name"] == "emergency"


def test_overrides_to_crisis(safety_net: SafetyNet) -> None:
    message = make_message(
        "my son says he wants to die",
        "admissions",
        0.71,
        [("admissions", 0.71), ("crisis", 0.2), ("faq", 0.09)],
    )
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "crisis"
    assert ranking_of(message) == [
        ("crisis", 1.0),
        ("admissions", 0.5),  # capped, see test below
        ("faq", 0.09),
    ]
    assert message.get(SAFETY_NET_KEY)["overrode"] == "admissions"


def test_keeps_a_correct_classification_and_confirms_it(safety_net: SafetyNet) -> None:
    message = make_message(
        "i want to die", "crisis", 0.97, [("crisis", 0.97), ("emergency", 0.02)]
    )
    safety_net.process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert ranking_of(message) == [("crisis", 1.0), ("emergency", 0.02)]
    assert message.get(SAFETY_NET_KEY) == {
        "level": "crisis",
        "matched": "want_to_die",
        "overrode": None,
    }


def test_never_downgrades_emergency_to_crisis(safety_net: SafetyNet) -> None:
    message = make_message(
        "i want to die", "emergency", 0.8, [("emergency", 0.8), ("crisis", 0.2)]
    )
    safety_net.process([message])
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}


def test_a_low_confidence_urgent_classification_is_confirmed(
    safety_net: SafetyNet,
) -> None:
    # Found by the held-out gate: the classifier said emergency at 0.40, the
    # lexicon agreed, and the FallbackClassifier (threshold 0.45) would have
    # turned it into nlu_fallback. The safety net now confirms it at 1.0.
    message = make_message(
        "my 3 year old got into my clonazepam",
        "emergency",
        0.40,
        [("emergency", 0.40), ("faq", 0.35), ("admissions", 0.25)],
    )
    safety_net.process([message])
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert [name for name, _ in ranking_of(message)] == [
        "emergency",
        "faq",
        "admissions",
    ]
    assert all(conf <= 0.5 for _, conf in ranking_of(message)[1:])


def test_upgrades_crisis_to_emergency(safety_net: SafetyNet) -> None:
    message = make_message(
        "i took all my pills because i want to die",
        "crisis",
        0.9,
        [("crisis", 0.9), ("emergency", 0.08), ("faq", 0.02)],
    )
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "emergency"
    assert [name for name, _ in ranking_of(message)] == ["emergency", "crisis", "faq"]


def test_does_not_touch_safe_messages(safety_net: SafetyNet) -> None:
    message = make_message(
        "can you overdose on klonopin", "faq", 0.93, [("faq", 0.93), ("crisis", 0.07)]
    )
    safety_net.process([message])
    assert message.get(INTENT) == {"name": "faq", "confidence": 0.93}
    assert message.get(SAFETY_NET_KEY) is None


@pytest.mark.parametrize("text", [None, ""])
def test_does_not_touch_messages_without_text(
    safety_net: SafetyNet, text: str | None
) -> None:
    message = make_message(text, "greet", 0.9, [("greet", 0.9)])
    safety_net.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.9}
    assert message.get(SAFETY_NET_KEY) is None


def test_does_not_touch_intent_payloads(safety_net: SafetyNet) -> None:
    message = make_message("/emergency", "emergency", 1.0, [("emergency", 1.0)])
    safety_net.process([message])
    assert message.get(SAFETY_NET_KEY) is None


def test_message_without_classifier_output(safety_net: SafetyNet) -> None:
    message = make_message("he is not breathing")
    safety_net.process([message])
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert ranking_of(message) == [("emergency", 1.0)]
    assert message.get(SAFETY_NET_KEY)["overrode"] is None


def test_intent_without_ranking(safety_net: SafetyNet) -> None:
    message = make_message("he is not breathing", "faq", 0.6)
    safety_net.process([message])
    assert ranking_of(message) == [("emergency", 1.0), ("faq", 0.5)]


def test_processes_every_message_in_a_batch(safety_net: SafetyNet) -> None:
    messages = [
        make_message("she took 20 pins", "faq", 0.5, [("faq", 0.5)]),
        make_message("what is klonopin", "faq", 0.9, [("faq", 0.9)]),
        make_message("kms", "greet", 0.4, [("greet", 0.4)]),
    ]
    assert safety_net.process(messages) is messages
    assert [m.get(INTENT)["name"] for m in messages] == ["emergency", "faq", "crisis"]


@pytest.mark.parametrize("original_confidence", [0.3, 0.95, 0.999])
def test_survives_fallback_classifier(
    safety_net: SafetyNet, original_confidence: float
) -> None:
    """A confident wrong classification must not make the override 'ambiguous'."""
    message = make_message(
        "my husband is unresponsive",
        "faq",
        original_confidence,
        [("faq", original_confidence), ("greet", 1 - original_confidence)],
    )
    safety_net.process([message])
    fallback = FallbackClassifier(FallbackClassifier.get_default_config())
    fallback.process([message])
    assert message.get(INTENT)["name"] == "emergency"
    assert max(conf for _, conf in ranking_of(message)[1:]) <= 0.5


def test_runner_up_cap_is_configurable(tmp_path: Path) -> None:
    component = SafetyNet.create(
        {"max_runner_up_confidence": 0.8},
        LocalModelStorage(tmp_path),
        Resource("safety_net"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    message = make_message("kms", "faq", 0.95, [("faq", 0.95)])
    component.process([message])
    assert ranking_of(message) == [("crisis", 1.0), ("faq", 0.8)]
