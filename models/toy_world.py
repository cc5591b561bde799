"""The "toy world": a generated corpus whose grammar puts words in regular relations.

Every person word has two features, a gender and a station (royal, noble, common, young royal, young common);
each sentence about it draws one context word from each feature's pool, so the distributional signal of "king"
is the signal of "male" plus the signal of "royal". Capitals share a city vocabulary, countries a nation
vocabulary, and each pair shares its own adjective ("french"); verbs appear in three tenses with tense-marking
adverbs and a verb-specific object. Word2vec trained on it should solve the analogies listed by
`toy_world_analogies()`, which makes the geometry of the learned space easy to check and to show.
"""

from __future__ import annotations

import random

PEOPLE = {  # station -> (male word, female word)
    "royal": [("king", "queen"), ("emperor", "empress")],
    "noble": [("duke", "duchess"), ("lord", "lady")],
    "common": [("man", "woman"), ("farmer", "farmwife")],
    "young_royal": [("prince", "princess")],
    "young_common": [("boy", "girl")],
    "family": [("father", "mother"), ("son", "daughter"), ("brother", "sister"), ("uncle", "aunt")],
}
GENDER_CONTEXT = {
    "male": ["he", "his", "him", "himself", "beard", "moustache"],
    "female": ["she", "her", "hers", "herself", "gown", "braids"],
}
STATION_CONTEXT = {
    "royal": ["throne", "crown", "palace", "kingdom", "reigns", "court", "scepter"],
    "noble": ["castle", "estate", "manor", "banquet", "title", "hunts", "servants"],
    "common": ["field", "village", "market", "plough", "harvest", "cottage", "works"],
    "young_royal": ["nursery", "tutor", "heir", "crown", "palace", "lessons", "pony"],
    "young_common": ["school", "games", "toys", "village", "plays", "kite", "lessons"],
    "family": ["home", "house", "dinner", "table", "children", "family", "visits"],
}
COUNTRIES = [  # (country, capital, adjective)
    ("france", "paris", "french"),
    ("germany", "berlin", "german"),
    ("italy", "rome", "italian"),
    ("spain", "madrid", "spanish"),
    ("japan", "tokyo", "japanese"),
    ("china", "beijing", "chinese"),
    ("russia", "moscow", "russian"),
    ("egypt", "cairo", "egyptian"),
    ("greece", "athens", "greek"),
    ("poland", "warsaw", "polish"),
]
COUNTRY_CONTEXT = [
    "nation",
    "border",
    "borders",
    "government",
    "population",
    "territory",
    "republic",
]
CAPITAL_CONTEXT = ["city", "streets", "mayor", "downtown", "museums", "avenues", "metro"]
VERBS = [  # (base, past, third person present, object)
    ("walk", "walked", "walks", "park"),
    ("eat", "ate", "eats", "bread"),
    ("write", "wrote", "writes", "letters"),
    ("sing", "sang", "sings", "songs"),
    ("drive", "drove", "drives", "carts"),
    ("climb", "climbed", "climbs", "hills"),
    ("swim", "swam", "swims", "rivers"),
    ("paint", "painted", "paints", "portraits"),
]
PAST_CONTEXT = ["yesterday", "earlier", "ago", "once", "previously"]
PRESENT_CONTEXT = ["today", "daily", "now", "usually", "always"]


def _person_sentence(rng: random.Random) -> list[str]:
    station = rng.choice(list(PEOPLE))
    male, female = rng.choice(PEOPLE[station])
    gender = rng.choice(["male", "female"])
    word = male if gender == "male" else female
    g1, g2 = rng.sample(GENDER_CONTEXT[gender], 2)
    s1, s2 = rng.sample(STATION_CONTEXT[station], 2)
    pattern = rng.randrange(3)
    if pattern == 0:
        return ["the", word, "and", g1, s1, "in", "the", s2]
    if pattern == 1:
        return [g1, s1, "the", word, "of", "the", s2, g2]
    return ["a", s1, "for", "the", word, g1, "and", g2, s2]


def _place_sentence(rng: random.Random) -> list[str]:
    country, capital, adjective = rng.choice(COUNTRIES)
    if rng.random() < 0.5:
        c1, c2 = rng.sample(COUNTRY_CONTEXT, 2)
        return ["the", adjective, c1, "of", country, "has", "a", c2]
    c1, c2 = rng.sample(CAPITAL_CONTEXT, 2)
    return ["the", adjective, c1, "of", capital, "has", "many", c2]


def _verb_sentence(rng: random.Random) -> list[str]:
    base, past, present, obj = rng.choice(VERBS)
    subject = rng.choice(["he", "she", "someone", "everyone", "the", "a"])
    if subject in ("the", "a"):
        subject = subject + " " + rng.choice(["man", "woman", "boy", "girl"])
    if rng.random() < 0.5:
        verb, adverbs = past, PAST_CONTEXT
    else:
        verb, adverbs = present, PRESENT_CONTEXT
    a1, a2 = rng.sample(adverbs, 2)
    return [*subject.split(), a1, verb, obj, a2]


def generate_toy_world(n_sentences: int = 30_000, seed: int = 0) -> list[list[str]]:
    """Sentences (lists of lowercase tokens) from the toy grammar; deterministic for a seed."""
    rng = random.Random(seed)
    makers = [_person_sentence] * 3 + [_place_sentence] * 2 + [_verb_sentence]
    return [rng.choice(makers)(rng) for _ in range(n_sentences)]


def toy_world_analogies() -> dict[str, list[tuple[str, str, str, str]]]:
    """Analogies a : b :: c : d that the grammar encodes, grouped like Google's analogy sections."""
    gender = []
    pairs = [pair for station in PEOPLE.values() for pair in station]
    for i, (m1, f1) in enumerate(pairs):
        for m2, f2 in pairs[i + 1 : i + 4]:
            gender.append((m1, f1, m2, f2))
    station = []
    for low, high in [("common", "royal"), ("young_common", "young_royal"), ("common", "noble")]:
        (m_low, f_low), (m_high, f_high) = PEOPLE[low][0], PEOPLE[high][0]
        station.append((m_low, m_high, f_low, f_high))
    capitals = []
    for i, (country1, capital1, _) in enumerate(COUNTRIES):
        for country2, capital2, _ in COUNTRIES[i + 1 : i + 4]:
            capitals.append((country1, capital1, country2, capital2))
    tense = []
    for i, (_, past1, present1, _) in enumerate(VERBS):
        for _, past2, present2, _ in VERBS[i + 1 : i + 3]:
            tense.append((present1, past1, present2, past2))
    return {"gender": gender, "station": station, "capital-country": capitals, "tense": tense}


def toy_world_text(n_sentences: int = 30_000, seed: int = 0) -> str:
    return "\n".join(" ".join(s) + " ." for s in generate_toy_world(n_sentences, seed))
