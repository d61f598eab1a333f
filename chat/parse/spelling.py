"""Typo correction against the words of the training examples (symmetric delete, distance 1).

A word the classifier never saw ("balnce", "clsoe", "hlep") is replaced by the most frequent
training word one edit away (a deletion, insertion, substitution or swap of neighbours). Lookups
are dictionary hits on the word's single-letter deletions, so a message costs microseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["Speller"]

_MIN_LENGTH = 4  # shorter words are too often a different word one edit away
_MIN_SUBSTITUTION_LENGTH = 5


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """True when `a` and `b` differ by one deletion, insertion, neighbour swap or (in words of
    five letters or more) substitution.

    Shared deletions alone would also pair words two edits apart ("statz" and "start").
    """
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        # one changed letter in a short word is usually another word ("life"/"live")
        substituted = len(diff) == 1 and len(a) >= _MIN_SUBSTITUTION_LENGTH
        return substituted or (swapped and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class Speller:
    """Corrects words to a known vocabulary.

    Args:
        words: the vocabulary, with repeats (frequency breaks ties between candidates).
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._counts = Counter(w for w in words if w.isalpha())
        self._index: dict[str, set[str]] = {}
        for word in self._counts:
            if len(word) >= _MIN_LENGTH:
                for variant in {word, *_deletions(word)}:
                    self._index.setdefault(variant, set()).add(word)

    def __contains__(self, word: object) -> bool:
        return word in self._counts

    def correct(self, word: str) -> str:
        """`word` itself when known, too short or not alphabetic; else the likeliest known word
        one edit away, or `word` when there is none."""
        if word in self._counts or len(word) < _MIN_LENGTH or not word.isalpha():
            return word
        candidates: set[str] = set(self._index.get(word, ()))
        for variant in _deletions(word):
            candidates |= self._index.get(variant, set())
            if variant in self._counts and len(variant) >= _MIN_LENGTH:
                candidates.add(variant)
        close = sorted(c for c in candidates if _one_edit(word, c))
        if not close:
            return word
        return max(close, key=lambda c: self._counts[c])

    def correct_text(self, text: str) -> str:
        """Each space-separated word of `text` corrected."""
        return " ".join(self.correct(word) for word in text.split())
