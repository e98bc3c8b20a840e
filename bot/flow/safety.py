"""The safety net: warning signs recognised in people's own words.

A flow declares *word groups* (lists of words and short phrases, per language, that a clinician
can read and extend) and *concepts* (the warning signs), each made of groups that must appear
near one another: a sensation-loss word near a saddle-area word, a lost-control word near a
bladder word. :class:`Screener` compiles them once per flow and reads a message in one pass:

    text ─► tokens (invisible characters dropped, accents folded, contractions opened)
         ─► each token's Snowball stem per language, one-letter typos of long words corrected
         ─► the groups' terms found in the tokens
         ─► concepts whose groups sit within ``near`` tokens of each other
         ─► "emergency" (a clear mention), "confirm" (negated, doubtful, or a clause the flow
            marks as one to ask about), or "none"

Matching is by stem, so word endings do not matter ("wiping", "wiped"; "orinando", "orino"),
and a word written with ``*`` at its end matches any word starting so ("incontin*"); a word
written with ``=`` in front matches only as written ("=legs", not "leg"). Negation and doubt
words ("no", "never", "not sure", "maybe") only count when they are not part of the sign's own
words: "no feeling down there" is a clear mention, "no numbness down there" a negated one.
Phrases the flow lists under ``ignore`` hide their words from every sign ("chest of drawers").

Every step is linear in the length of the message: tokens come from one regular-expression
scan with no backtracking, terms are found through a dictionary keyed by their first word, and
each clause is checked with a sliding window over the positions found. Over-triage is the
intended error: a doubtful mention asks the person rather than letting it pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from itertools import pairwise, product
from pathlib import Path
from typing import Final

import Stemmer
from rapidfuzz.distance import OSA

DEFAULT_NEAR = 8  # tokens from the first word of a sign to the last
NEGATION_REACH = 4  # a negation this many tokens before a sign (same sentence) negates it
DOUBT_REACH = 8  # a doubt word this many tokens before a sign makes it doubtful
DOUBT_AFTER = 8  # ... or this many after it ("numb down there? could be the tablets")
MAX_TERM_GAP = 1  # one other word may stand between two words of a term ("no real feeling")
MAX_FILLERS = 3  # ... besides a few words that only colour it ("can't really properly feel")
LOOKAHEAD = 1 + MAX_TERM_GAP + MAX_FILLERS  # how far the next word of a term may be
RECENT = 3  # occurrences of each group kept while looking for a sign's window
TYPO_MIN_LENGTH = 5  # shorter words are never corrected ("numb"/"dumb", "wipe"/"wife")
SHORT_STEM = 3  # stems this short collide across languages (see _Word.written)
KNOWN_WORD_ZIPF = 2.5  # a word this common in a flow language is never "corrected" (wordfreq)
KNOWN_WORDS_DIR = Path(__file__).with_name("known_words")  # <code>.txt, by scripts/known-words

# Languages the Snowball stemmer knows, by the codes flows use.
STEMMERS = {
    "da": "danish",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}

# Characters that draw nothing but would split or hide a word: zero-width space and joiners,
# word joiner, soft hyphen, byte-order mark, bidirectional marks, tag characters ... Unicode's
# category Cf ("format"), as inclusive ranges of code points: written out, because finding them
# by asking ``unicodedata`` about every code point cost a quarter of a second at every start.
# tests/test_safety_net.py checks the ranges against that scan in the Unicode version of the
# running Python (14.0 in 3.11), so a Python with newer Unicode data tells us to add to them.
FORMAT_CHARACTERS: Final[tuple[tuple[int, int], ...]] = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
_INVISIBLE = dict.fromkeys(c for first, last in FORMAT_CHARACTERS for c in range(first, last + 1))

# One scan: words (letters and digits, with inner apostrophes) and breaks. A comma breaks too:
# "no, I can't feel down there" is no negated mention, nor is "the paper, not sure why".
_TOKEN = re.compile(r"(\w+(?:['’`´]\w+)*)|([.,!?;:()\n]+)")

# English contractions, opened so that "cant", "can't", "can not" and "cannot" read alike and
# "don't" carries its "not". Spanish needs none.
_CONTRACTIONS: Mapping[str, tuple[str, ...]] = {
    "can't": ("cannot",),
    "cant": ("cannot",),
    "cannot": ("cannot",),
    "won't": ("will", "not"),
    "wont": ("will", "not"),
    "ain't": ("is", "not"),
    "aint": ("is", "not"),
    "dont": ("do", "not"),
    "doesnt": ("does", "not"),
    "didnt": ("did", "not"),
    "havent": ("have", "not"),
    "hasnt": ("has", "not"),
    "hadnt": ("had", "not"),
    "isnt": ("is", "not"),
    "wasnt": ("was", "not"),
    "arent": ("are", "not"),
    "werent": ("were", "not"),
    "couldnt": ("could", "not"),
    "wouldnt": ("would", "not"),
    "shouldnt": ("should", "not"),
}
# Words that colour a phrase without changing it: skipped inside a term, within MAX_FILLERS.
_FILLERS = frozenset(
    {"really", "properly", "actually", "even", "quite", "fully", "totally", "just", "very",
     "much", "literally", "completely", "exactly", "bien", "muy", "realmente", "mucho",
     "totalmente", "completamente", "nada", "a", "bit", "little", "lil", "tiny", "kinda",
     "sorta", "abit", "poco", "un", "poquito", "algo", "medio"}
)  # fmt: skip
# "no chest pain or shortness of breath": a negation reaches further across these.
_ALTERNATIVES = frozenset({"or", "nor", "o", "ni", "u"})
# A Spanish "ni" after one of these, when it is a word of the sign's own phrase, carries that
# no on: "no puedo hacer ni una elevación" (see Screener._clear_or_not).
_CARRY_ON_FROM = frozenset({"no", "ni", "sin", "nunca"})
# Numbers written as words, for estimates ("maybe two storeys", "quizás tres metros").
_NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty",
     "half", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
     "veinte", "medio"}
)  # fmt: skip
# Words that end a sentence's reach for negation as a full stop does ("no pain but numb ...").
_BREAK_WORDS = frozenset({"but", "although", "though", "however", "pero", "aunque", "sino"})


class Verdict(StrEnum):
    EMERGENCY = "emergency"
    CONFIRM = "confirm"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Concept:
    """A warning sign: ``when`` lists the clauses (groups that must appear near each other)
    that mean it; ``ask`` the clauses that only ever lead to the yes/no question;
    ``doubted_by`` the groups whose words, in a sentence of the mention, make it a question
    ("I fell off a horse years ago": an old accident is not the sign, a new one is)."""

    id: str
    when: tuple[tuple[str, ...], ...]
    ask: tuple[tuple[str, ...], ...] = ()
    near: int = DEFAULT_NEAR
    doubted_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Screening:
    """What the net made of one message."""

    verdict: Verdict
    concept: str | None = None
    evidence: str | None = None  # the words that matched, as the person wrote them

    @property
    def alarming(self) -> bool:
        return self.verdict is not Verdict.NONE


NOTHING = Screening(Verdict.NONE)
_IGNORE = "\x00ignore"  # phrases whose words never count ("chest of drawers", "pissed off")


# --- words -----------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def fold(word: str) -> str:
    """Lower case, no accents, plain apostrophes: "Pérdida" -> "perdida". The ñ stays: in
    Spanish it is a letter of its own ("año" is a year, "ano" the back passage)."""
    letters: list[str] = []
    for c in unicodedata.normalize("NFKD", word.casefold()):
        if not unicodedata.combining(c):
            letters.append(c)
        elif c == "\u0303" and letters and letters[-1] == "n":
            letters[-1] = "ñ"
    return "".join(letters).replace("’", "'").replace("`", "'").replace("´", "'")


@cache
def known_words(code: str) -> frozenset[str]:
    """The words common enough in language ``code`` that the net never takes them for a slip
    of the thumb.

    English and Spanish are shipped with the package (``known_words/<code>.txt``, written by
    ``scripts/known-words``): a set of about 50,000 words each, read in milliseconds, instead
    of wordfreq's whole lists in memory (about 70 MB for the two). Another language is cut
    from wordfreq's list the first time a flow speaks it."""
    shipped = KNOWN_WORDS_DIR / f"{code}.txt"
    if shipped.is_file():
        return frozenset(shipped.read_text(encoding="utf-8").split())
    return frozenset(cut_known_words(code))


def cut_known_words(code: str) -> list[str]:
    """The words of wordfreq's list for ``code`` with a Zipf frequency of at least
    :data:`KNOWN_WORD_ZIPF`, sorted (the net only ever looks up words of letters)."""
    # Imported here on purpose: wordfreq's lists cost memory a shipped language never needs.
    from wordfreq import iter_wordlist, zipf_frequency

    words: list[str] = []
    for word in iter_wordlist(code):  # most frequent first
        if zipf_frequency(word, code) < KNOWN_WORD_ZIPF:
            break
        if word.isalpha():
            words.append(word)
    return sorted(words)


def _open_contraction(word: str) -> tuple[str, ...]:
    opened = _CONTRACTIONS.get(word)
    if opened is not None:
        return opened
    if word.endswith("n't") and len(word) > 3:
        return (word[:-3], "not")
    if word.endswith("'s"):
        return (word[:-2],)
    return (word.replace("'", ""),) if "'" in word else (word,)


@dataclass(slots=True)
class _Token:
    word: str  # folded
    start: int  # where it stands in the cleaned text
    end: int
    sentence: int  # which sentence (negation does not reach across one)


def tokenize(text: str) -> tuple[str, list[_Token]]:
    """The cleaned text (NFC, invisible characters dropped) and its word tokens."""
    cleaned = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    tokens: list[_Token] = []
    sentence = 0
    previous: str | None = None
    for match in _TOKEN.finditer(cleaned):
        raw = match.group(1)
        if raw is None:
            sentence += 1
            continue
        for word in _open_contraction(fold(raw)):
            if word in _BREAK_WORDS:
                sentence += 1
            if word == "not" and previous in ("can", "could") and tokens:
                # "can not" and "could not" (its past) read as "cannot"
                tokens[-1].word = "cannot"
                tokens[-1].end = match.end()
                previous = "cannot"
                continue
            tokens.append(_Token(word, match.start(), match.end(), sentence))
            previous = word
    return cleaned, tokens


# --- terms -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    """One word of a term: a stem to compare, a prefix (``orin*``), or an exact form."""

    text: str
    how: str  # "stem" | "prefix" | "exact"
    # A stem of three letters or fewer also needs the word to start as written (less a final
    # vowel): Spanish "notar" stems to "not", "menos" to "men", and English "not" or "men"
    # must not match them.
    written: str = ""


@dataclass(frozen=True, slots=True, eq=False)  # identity: hashed per token, must be cheap
class _Term:
    words: tuple[_Word, ...]
    group: str


@dataclass(frozen=True, slots=True)
class _Found:
    group: str
    start: int  # token positions, inclusive
    end: int
    words: tuple[int, ...] = ()  # the positions of the term's own words (not the skipped ones)


# Spanish verb endings whose accent the folded word has lost ("sentía", "sentí"): Snowball's
# Spanish stemmer only knows them accented, so "sentia" would keep its ending and miss
# "sentir". A word ending so is also read with the accent back (not instead: "limpia" is
# "limpiar", not "limpír").
_SPANISH_ENDING = re.compile(r"(?<=[^aeiou])i(a|as|amos|ais|an|)$")
# A past participle with its d dropped, as said in much of Andalusia and the Caribbean:
# "cagao", "mojaos", "dormío" (the accent already folded away) -> "cagado", "dormido".
_DROPPED_D = re.compile(r"(?<=[a-zñ][ai])(os?)$")


def parse_term(text: str, stem: Stemmer.Stemmer) -> tuple[_Word, ...]:
    """A term as written in the flow ("can't feel", "orin*", "=legs") as words to match."""
    words: list[_Word] = []
    for raw in text.split():
        how = "stem"
        if raw.startswith("="):
            how, raw = "exact", raw[1:]
        elif raw.endswith("*"):
            how, raw = "prefix", raw[:-1]
        for part in _open_contraction(fold(raw)):
            if not part:
                continue
            if how == "stem":
                stemmed = stem.stemWord(part)
                written = ""
                if len(stemmed) <= SHORT_STEM:  # "para" -> "par": "pare" still, "parish" not
                    written = part[:-1] if part[-1] in "aeiou" and len(part) > 2 else part
                words.append(_Word(stemmed, how, written))
            else:
                words.append(_Word(part, how))
    return tuple(words)


def term_problem(text: str) -> str | None:
    """Why a term cannot be used, in plain words, or None."""
    if not any(c.isalnum() for c in text):
        return "This has no letters or digits to look for."
    for raw in text.split():
        if raw.endswith("*") and len(raw.rstrip("*").lstrip("=")) < 3:
            return f"'{raw}' is too short to match the start of words (3 letters at least)."
        if "*" in raw.rstrip("*") or raw.count("*") > 1:
            return f"'{raw}': a * may only stand at the end of a word."
    return None


# --- the screener ----------------------------------------------------------------------------


def _key(word: _Word) -> str | None:
    """How a word of a term is looked up: by its stem or as written (None for a prefix)."""
    if word.how == "stem":
        return f"s:{word.text}"
    if word.how == "exact":
        return f"e:{word.text}"
    return None


@dataclass(slots=True)
class _Language:
    """One language's terms, indexed so that a token finds only the terms that can start at
    it: one-word terms by their word, longer ones by their first two words (the second may
    come one word later), and terms that start with a prefix by its first three letters."""

    code: str
    stemmer: Stemmer.Stemmer
    single: dict[str, list[_Term]] = field(default_factory=lambda: defaultdict(list))
    pairs: dict[str, dict[str, list[_Term]]] = field(default_factory=dict)
    by_prefix: dict[str, list[_Term]] = field(default_factory=lambda: defaultdict(list))
    other: str = ""  # where a word's second reading is kept ("es~": see _SPANISH_ENDING)

    def __post_init__(self) -> None:
        self.other = f"{self.code}~"

    def add(self, term: _Term) -> None:
        first = _key(term.words[0])
        if first is None:
            self.by_prefix[term.words[0].text[:3]].append(term)
            return
        second = _key(term.words[1]) if len(term.words) > 1 else None
        if second is None:
            self.single[first].append(term)  # one word, or a prefix second word: check all
        else:
            self.pairs.setdefault(first, defaultdict(list))[second].append(term)

    def keys(self, stems: Mapping[str, str]) -> tuple[str, ...]:
        """How a word is looked up in this language's index (kept in its _WordInfo)."""
        other = stems.get(f"s:{self.code}~")
        if other is not None:
            return stems[f"s:{self.code}"], other, stems["e:"]
        return stems[f"s:{self.code}"], stems["e:"]

    def word_matches(self, word: _Word, token: str, stems: Mapping[str, str]) -> bool:
        if word.how == "stem":
            if stems[self.code] == word.text:
                return token.startswith(word.written)
            return stems.get(self.other) == word.text and stems["~"].startswith(word.written)
        if word.how == "exact":
            return stems["raw"] == word.text
        return token.startswith(word.text)

    def starting(
        self, stems: Mapping[str, str], keys: tuple[str, ...]
    ) -> tuple[list[_Term], list[dict[str, list[_Term]]]]:
        """What a word may start, worked out once per word: the terms that start with it and
        need no next word checked here, and the index of second words for those that do."""
        token = stems[""]
        singles: list[_Term] = []
        afters: list[dict[str, list[_Term]]] = []
        for key in keys:
            singles.extend(self.single.get(key, ()))
            after = self.pairs.get(key)
            if after is not None:
                afters.append(after)
        singles.extend(
            term
            for term in self.by_prefix.get(token[:3], ())
            if token.startswith(term.words[0].text)
        )
        return singles, afters

    def candidates(self, infos: list[_WordInfo], i: int) -> set[_Term]:
        """The terms that may start at token ``i``."""
        singles, afters = infos[i].starting[self.code]
        found = set(singles)
        for after in afters:
            for j in range(i + 1, min(i + 1 + LOOKAHEAD, len(infos))):
                for second in infos[j].keys[self.code]:
                    found.update(after.get(second, ()))
        return found


@dataclass(slots=True)
class _WordInfo:
    """A word of a message as the net reads it, kept in a bounded cache: its stems and index
    keys per language, and what it may start."""

    stems: dict[str, str]
    keys: dict[str, tuple[str, ...]]
    starting: dict[str, tuple[list[_Term], list[dict[str, list[_Term]]]]]


class Screener:
    """A flow's safety net, compiled: :meth:`screen` one message at a time."""

    def __init__(
        self,
        words: Mapping[str, Mapping[str, Sequence[str]]],
        concepts: Sequence[Concept],
        *,
        negations: Mapping[str, Sequence[str]] = {},
        doubts: Mapping[str, Sequence[str]] = {},
        ignore: Mapping[str, Sequence[str]] = {},
    ) -> None:
        self.concepts = tuple(concepts)
        # Every clause in the flow's order, and by each of its groups: a message is checked
        # only against the clauses whose groups it mentions.
        self._clauses = [
            (concept, clause, ask)
            for concept in self.concepts
            for clauses, ask in ((concept.when, False), (concept.ask, True))
            for clause in clauses
        ]
        self._clauses_of: dict[str, list[int]] = defaultdict(list)
        for order, (_, clause, _) in enumerate(self._clauses):
            for group in set(clause):
                self._clauses_of[group].append(order)
        codes = sorted({lang for group in words.values() for lang in group} | set(negations))
        codes = [code for code in codes if code in STEMMERS]
        self._languages = {code: _Language(code, Stemmer.Stemmer(STEMMERS[code])) for code in codes}
        self._vocabulary: set[str] = set()  # whole words of terms, for typo correction
        groups = dict(words)
        groups["\x00negation"] = negations
        groups["\x00doubt"] = doubts
        groups[_IGNORE] = ignore
        for group, by_language in groups.items():
            for code, terms in by_language.items():
                language = self._languages.get(code)
                if language is None:
                    continue
                for text in terms:
                    parsed = parse_term(text, language.stemmer)
                    if parsed:
                        language.add(_Term(parsed, group))
                    # Typos are corrected towards whole words only: not towards a prefix
                    # ("tingl*") nor an exact form ("=legs", which "leg" must not become).
                    self._vocabulary.update(
                        fold(w) for w in text.split() if w.isalpha() and len(w) >= TYPO_MIN_LENGTH
                    )
        # Typo candidates by first letter and length: a word is compared only with the few
        # net words it could be one or two edits away from.
        self._typo_buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(self._vocabulary):
            self._typo_buckets[word[0], len(word)].append(word)
        self._word_cache: dict[str, _WordInfo] = {}
        # Read the known words now, not on someone's message.
        self._known = [known_words(code) for code in self._languages]

    # -- reading a message ---------------------------------------------------------------------

    def screen(self, text: str) -> Screening:
        """What the safety net does with ``text`` at a question step."""
        if not self.concepts or not text:
            return NOTHING
        cleaned, tokens = tokenize(text)
        if not tokens:
            return NOTHING
        infos = [self._info(token.word) for token in tokens]
        found = self._find_terms(tokens, infos)
        if not found:
            return NOTHING
        return self._judge(cleaned, tokens, found)

    def _info(self, word: str) -> _WordInfo:
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        corrected = self._correct(word)
        stems = {code: lang.stemmer.stemWord(corrected) for code, lang in self._languages.items()}
        for code in self._languages:
            stems[f"s:{code}"] = f"s:{stems[code]}"  # the index keys, made once per word
        if "es" in self._languages:
            # A second Spanish reading: "sentia" typed without its accent is also "sentía",
            # stem "sent" ("sentir"); "cagao", "dormío" said with the d dropped (Andalusian,
            # Caribbean) are also "cagado", "dormido"
            if _SPANISH_ENDING.search(corrected):
                second = _SPANISH_ENDING.sub(r"í\1", corrected)
            else:
                second = _DROPPED_D.sub(r"d\1", corrected)
            other = self._languages["es"].stemmer.stemWord(second)
            if other != stems["es"]:
                stems["es~"], stems["s:es~"], stems["~"] = other, f"s:{other}", second
        stems[""] = corrected
        stems["raw"] = word  # exact forms compare the word as typed, never a correction
        stems["e:"] = f"e:{word}"
        keys = {code: lang.keys(stems) for code, lang in self._languages.items()}
        starting = {
            code: lang.starting(stems, keys[code]) for code, lang in self._languages.items()
        }
        info = _WordInfo(stems, keys, starting)
        if len(self._word_cache) > 50_000:  # bounded: an adversary sends endless new words
            self._word_cache.clear()
        self._word_cache[word] = info
        return info

    def _stems(self, word: str) -> dict[str, str]:
        return self._info(word).stems

    def _correct(self, word: str) -> str:
        """A one-letter typo of a long word of the net ("numbnes", "bladdder", and two letters
        swapped: "weakenss") -> that word. A word that is itself common in one of the flow's
        languages (:func:`known_words`) is left alone.
        Only words of five letters or more, never a word of the net itself, and the first
        letter must agree ("ladder" is not "bladder", "painting" is not "fainting")."""
        if len(word) < TYPO_MIN_LENGTH or word in self._vocabulary or not word.isalpha():
            return word
        if any(word in known for known in self._known):
            return word  # a real word ("painting", "escapada"), not a slip of the thumb
        if "es" in self._languages:
            for spelled in _spanish_spellings(word):  # "tobiyo", "ormigueo"
                if spelled in self._vocabulary:
                    return spelled
        limit = 2 if len(word) >= 10 else 1
        best, best_score = word, -1
        for length in range(len(word) - limit, len(word) + limit + 1):
            for candidate in self._typo_buckets.get((word[0], length), ()):
                if OSA.distance(word, candidate, score_cutoff=limit) > limit:
                    continue
                # The likeliest intended word shares the most of both ends with the typo
                # ("contrl" -> "control", not "contra"), then a missing letter beats others.
                score = 2 * (_common_prefix(word, candidate) + _common_suffix(word, candidate))
                score += length > len(word)
                if score > best_score:
                    best, best_score = candidate, score
        return best

    def _find_terms(self, tokens: list[_Token], infos: list[_WordInfo]) -> list[_Found]:
        stems = [info.stems for info in infos]
        found: list[_Found] = []
        count = len(tokens)
        for i in range(count):
            for language in self._languages.values():
                for term in language.candidates(infos, i):
                    if not language.word_matches(term.words[0], stems[i][""], stems[i]):
                        continue
                    words = self._term_end(language, term, tokens, stems, i)
                    if words is not None:
                        found.append(_Found(term.group, i, words[-1], words))
        return found

    def _term_end(
        self,
        language: _Language,
        term: _Term,
        tokens: list[_Token],
        stems: list[dict[str, str]],
        start: int,
    ) -> tuple[int, ...] | None:
        """The positions of ``term``'s words when its first word is at ``start``, or None.
        Each later word may come after at most :data:`MAX_TERM_GAP` other words, not counting
        up to :data:`MAX_FILLERS` filler words ("really", "properly")."""
        position = start
        positions = [start]
        for word in term.words[1:]:
            others = fillers = 0
            for candidate in range(position + 1, min(position + 1 + LOOKAHEAD, len(tokens))):
                if language.word_matches(word, stems[candidate][""], stems[candidate]):
                    position = candidate
                    positions.append(candidate)
                    break
                if tokens[candidate].word in _FILLERS and fillers < MAX_FILLERS:
                    fillers += 1
                else:
                    others += 1
                if others > MAX_TERM_GAP:
                    return None
            else:
                return None
        return tuple(positions)

    # -- deciding ------------------------------------------------------------------------------

    def _judge(self, cleaned: str, tokens: list[_Token], found: list[_Found]) -> Screening:
        ignored = {i for f in found if f.group == _IGNORE for i in range(f.start, f.end + 1)}
        by_group: dict[str, list[_Found]] = defaultdict(list)
        for item in found:
            if item.group == _IGNORE or (ignored and _overlaps(item, ignored)):
                continue
            by_group[item.group].append(item)
        negations, doubts = by_group.pop("\x00negation", []), by_group.pop("\x00doubt", [])
        present = set(by_group)
        # A negation or doubt made only of words of one phrase of the net ("no puedo", "no
        # feeling") is part of that phrase, wherever the phrase stands; one that spans two
        # ("nothing numb": "nothing" is a loss, "numb" a feeling) still denies.
        phrased = (
            {frozenset(f.words) for items in by_group.values() for f in items}
            if negations or doubts
            else set()  # nothing to weigh them against
        )
        if any(tokens[cue.start].word == "ni" for cue in negations):
            negations = _without_carried_on(tokens, negations, by_group)
        clear: tuple[tuple[int, int], Screening] | None = None  # the most specific clear one
        doubtful: Screening | None = None
        for order in sorted({o for group in present for o in self._clauses_of.get(group, ())}):
            concept, clause, ask = self._clauses[order]
            if not present.issuperset(clause):
                continue
            window = _window(clause, by_group, concept.near)
            if window is None:
                continue
            verdict = (
                Verdict.CONFIRM
                if ask or _doubted(tokens, window, concept, by_group)
                else self._clear_or_not(tokens, window, phrased, negations, doubts)
            )
            screening = Screening(verdict, concept.id, _evidence(cleaned, tokens, window))
            if verdict is Verdict.CONFIRM:
                doubtful = doubtful or screening
                continue
            # The most specific: more groups, then more of the person's words ("faecal
            # incontinence" is the bowel's, though "incontinent" alone is the bladder's).
            specific = (len(clause), sum(len(f.words) for f in window))
            if clear is None or specific > clear[0]:
                clear = (specific, screening)
        return clear[1] if clear else doubtful or NOTHING

    @staticmethod
    def _clear_or_not(
        tokens: list[_Token],
        window: Sequence[_Found],
        phrased: set[frozenset[int]],
        negations: list[_Found],
        doubts: list[_Found],
    ) -> Verdict:
        """EMERGENCY for a clear mention, CONFIRM when it is negated or doubted.

        A negation word counts up to :data:`NEGATION_REACH` words before the sign in the same
        sentence (further across "or": "no chest pain or shortness of breath"), inside it, or
        right after it at the end of a sentence ("en las dos piernas no"). A doubt word counts
        up to :data:`DOUBT_REACH` words before it, inside it, and up to :data:`DOUBT_AFTER`
        words after it, in its sentence or the one next to it ("tingling there too? not
        sure"), unless a number follows it (an estimate: "maybe 2 floors"). "Inside" includes
        overlapping the sign ("nothing numb in the groin"). A negation or doubt that is part
        of one phrase of the net, or whose words stand in two sentences, never counts."""
        start = min(f.start for f in window)
        end = max(f.end for f in window)

        def mine(cue: _Found) -> bool:
            # part of a phrase of the net, or read across a full stop or comma ("sex feels
            # like nothing. Numb inside" holds no "nothing numb")
            return tokens[cue.start].sentence != tokens[cue.end].sentence or any(
                phrase.issuperset(cue.words) for phrase in phrased
            )

        def negates(cue: _Found) -> bool:
            if mine(cue):
                return False
            if cue.start <= end and start <= cue.end:  # inside the sign, or overlapping it
                return True
            if cue.end < start:
                between = tokens[cue.end + 1 : start]
                reach = NEGATION_REACH + 3 * sum(t.word in _ALTERNATIVES for t in between)
                same = tokens[cue.end].sentence == tokens[start].sentence
                return same and start - cue.end <= reach
            if cue.start == end + 1 and tokens[cue.start].sentence == tokens[end].sentence:
                following = cue.end + 1
                return (
                    following >= len(tokens) or tokens[following].sentence != tokens[end].sentence
                )
            return False

        def doubts_it(cue: _Found) -> bool:
            if mine(cue) or _estimate(tokens, cue.end + 1):
                return False
            if cue.start <= end and start <= cue.end:  # inside the sign, or overlapping it
                return True
            # "maybe? peeing feels slower", "out of breath, might just be unfit": the doubt
            # may stand in the sentence next to the sign's, as well as in its own
            if cue.end < start:
                apart = tokens[start].sentence - tokens[cue.end].sentence
                return apart <= 1 and start - cue.end <= DOUBT_REACH
            apart = tokens[cue.start].sentence - tokens[end].sentence
            return apart <= 1 and cue.start - end <= DOUBT_AFTER

        if any(negates(cue) for cue in negations) or any(doubts_it(cue) for cue in doubts):
            return Verdict.CONFIRM
        return Verdict.EMERGENCY


def _doubted(
    tokens: list[_Token],
    window: Sequence[_Found],
    concept: Concept,
    by_group: Mapping[str, list[_Found]],
) -> bool:
    """A word of one of the concept's ``doubted_by`` groups in a sentence the mention stands
    in: "had a car crash years ago" (one reading of "years ago" per sentence, not across a
    comma or a "but": "crashed the car yesterday, broke my arm as a kid" is clear)."""
    if not concept.doubted_by:
        return False
    sentences = {tokens[i].sentence for f in window for i in f.words}
    return any(
        tokens[cue.start].sentence in sentences and tokens[cue.end].sentence in sentences
        for group in concept.doubted_by
        for cue in by_group.get(group, ())
    )


def _without_carried_on(
    tokens: list[_Token], negations: list[_Found], by_group: Mapping[str, list[_Found]]
) -> list[_Found]:
    """The negations less each "ni" (nor, not even) that carries on the "no" of a phrase of
    the net earlier in its sentence: "no puedo hacer ni una elevación", "no sentía el agua en
    las nalgas ni entre las piernas". Spanish says no twice, and the mention is no less
    clear. Not when a word of that phrase's group follows, listing what is denied: "no noto
    ni hormigueo ni nada"."""
    readers: dict[int, set[str]] = defaultdict(set)  # word -> the groups whose phrases read it
    starting: set[tuple[int, str]] = set()
    for items in by_group.values():
        for f in items:
            starting.add((f.start, f.group))
            for i in f.words:
                readers[i].add(f.group)

    def carries_on(cue: _Found) -> bool:
        return tokens[cue.start].word == "ni" and any(
            tokens[i].word in _CARRY_ON_FROM
            and tokens[i].sentence == tokens[cue.start].sentence
            and (cue.end + 1, group) not in starting
            for i in range(max(0, cue.start - DEFAULT_NEAR), cue.start)
            for group in readers.get(i, ())
        )

    return [cue for cue in negations if not carries_on(cue)]


def _spanish_spellings(word: str) -> Iterator[str]:
    """The word as written by someone who spells Spanish by ear: the letters that sound alike
    (y and ll, b and v) swapped, or the silent h put back. Each is one slip, not two."""
    for a, b in (("y", "ll"), ("ll", "y"), ("b", "v"), ("v", "b")):
        if a in word:
            yield word.replace(a, b)
    yield "h" + word


def _estimate(tokens: list[_Token], after: int) -> bool:
    """A number within the next two words: "maybe 2 floors", "quizás dos metros", "maybe a
    7" is an estimate, not a doubt about the sign."""
    return any(t.word[0].isdigit() or t.word in _NUMBER_WORDS for t in tokens[after : after + 2])


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])


def _overlaps(item: _Found, positions: set[int]) -> bool:
    return any(i in positions for i in range(item.start, item.end + 1))


def _window(
    clause: Sequence[str], by_group: Mapping[str, list[_Found]], near: int
) -> list[_Found] | None:
    """A set of one occurrence per group of ``clause``, no two sharing a word, whose first
    and last tokens are at most ``near`` apart. One pass over the occurrences in position
    order, keeping each group's last :data:`RECENT` occurrences: when the newest ones
    overlap ("cant feel nothing down there"), an earlier one may still fit."""
    if len(clause) == 1:
        return [by_group[clause[0]][0]]
    items = sorted(
        ((item, index) for index, group in enumerate(clause) for item in by_group[group]),
        key=lambda pair: (pair[0].start, pair[0].end),
    )
    recent: dict[int, list[_Found]] = {}
    for item, index in items:
        kept = recent.setdefault(index, [])
        kept.append(item)
        del kept[:-RECENT]
        if len(recent) < len(clause):
            continue
        others = [recent[i] for i in range(len(clause)) if i != index]
        for combination in product(*others):
            chosen = [item, *combination]
            span = max(f.end for f in chosen) - min(f.start for f in chosen)
            if span <= near and _apart(chosen):
                return chosen
    return None


def _apart(items: Sequence[_Found]) -> bool:
    """No two parts of a sign share a word ("me hice encima" is not also "encima")."""
    ordered = sorted(items, key=lambda f: f.start)
    return all(a.end < b.start for a, b in pairwise(ordered))


def _evidence(cleaned: str, tokens: list[_Token], window: Sequence[_Found]) -> str:
    start = tokens[min(f.start for f in window)].start
    end = tokens[max(f.end for f in window)].end
    return " ".join(cleaned[start:end].split())
