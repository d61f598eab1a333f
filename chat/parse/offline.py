"""The default language parser: no network, no key.

A scikit-learn classifier (TF-IDF of character and word n-grams, a linear SVM whose margins a
softmax turns into confidences) picks the intent; `chat.parse.slots` and `chat.parse.fill` read
its arguments; `chat.registry.validate` checks them. The classifier is trained on
`prompts/intents/examples.jsonl` the first time a message is parsed (about 0.2 s, plus about
0.8 s to import sklearn). It sees the message with values masked (`chart zsym ztf`) and typos
corrected to its vocabulary, so it learns requests rather than coins.

Below `threshold` confidence, or when the runner-up is nearly as likely, the parser asks a
clarifying question instead of guessing; trading intents need the higher `trade_threshold`. Text
that tries to instruct the bot ("ignore previous instructions...") or asks for secrets is
`unknown` before the classifier sees it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chat.intents import Unknown
from chat.parse.fill import SlotError, fill_args
from chat.parse.result import ParseResult
from chat.parse.slots import Slots, extract, tokenize
from chat.parse.spelling import Speller
from chat.parse.vocab import strategy_forms
from chat.registry import COMMANDS, ArgSpec, ArgumentError, IntentError, validate

__all__ = [
    "AMBIGUITY_RATIO",
    "DEFAULT_EXAMPLES",
    "SOFTMAX_SCALE",
    "THRESHOLD",
    "TRADE_THRESHOLD",
    "Example",
    "IntentModel",
    "OfflineParser",
    "is_hostile",
    "load_examples",
]

DEFAULT_EXAMPLES = Path(__file__).resolve().parents[2] / "prompts" / "intents" / "examples.jsonl"
# Chosen by 5-fold cross-validation on the training examples (`python bench/parse.py
# --calibrate` prints the table): the margin scale with the best log-loss, and thresholds below
# which a guess was wrong at least as often as right (trading intents ask for more).
SOFTMAX_SCALE = 5.0
THRESHOLD = 0.30
TRADE_THRESHOLD = 0.50
# A runner-up this close to the best makes a guess a coin toss ("trading": start or stop?).
AMBIGUITY_RATIO = 0.5
# sklearn's default word pattern drops one-letter words; "i" and "a" carry meaning here
_ONE_CHAR_WORDS = r"(?u)\b\w+\b"
_TRADING = frozenset(name for name, spec in COMMANDS.items() if spec.needs_confirmation)

# Instructions aimed at the bot itself, and requests for secrets: never an intent.
_HOSTILE = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|prompts?|rules|"
        r"above|previous|prior|guidelines|everything|safety|confirmations?)\b",
        r"\bsystem\s*(prompt|message|override)|\bsystem\s*:|\bdeveloper mode\b|\bjailbreak",
        r"<\s*/?\s*(system|user|assistant|script)\b|\[/?(system|inst)\]",
        r"\byou are now\b|\bpretend (you|to be)\b|\bact as\b|\bnew instructions\b",
        r"\brepeat after me\b|\bsudo\b|\bwithout (asking|confirm)",
        r"\b(api|secret|private)[ _-]?(key|keys|secret)\b|\bpassword\b|\bseed phrase\b",
        r"\b(show|reveal|print|output|tell)\b.{0,20}\b(prompt|your instructions|secrets?)\b",
    )
)


@dataclass(frozen=True)
class Example:
    """One training utterance and its intent."""

    text: str
    intent: str


def load_examples(path: Path = DEFAULT_EXAMPLES) -> list[Example]:
    """The examples in a JSON-lines file of `{"text", "intent"}` objects.

    Raises:
        ValueError: a line is not such an object or names an intent the registry lacks.
    """
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        if not isinstance(item, dict) or item.get("intent") not in COMMANDS:
            raise ValueError(f"{path}:{number}: expected {{'text', 'intent'}} with a known intent")
        examples.append(Example(str(item["text"]), str(item["intent"])))
    return examples


def is_hostile(text: str) -> bool:
    """True for text that tries to instruct the bot or asks for secrets."""
    low = " ".join(text.lower().split())
    return any(pattern.search(low) for pattern in _HOSTILE)


class IntentModel:
    """A fitted intent classifier over masked text: TF-IDF of character 2-4-grams and word
    1-2-grams, a linear SVM, and a softmax of its margins for confidences."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        # sklearn costs ~0.3 s to import; only a parser that is used pays for it
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self._hstack = hstack
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self._words = TfidfVectorizer(
            ngram_range=(1, 2), token_pattern=_ONE_CHAR_WORDS, sublinear_tf=True
        )
        features = hstack([self._chars.fit_transform(texts), self._words.fit_transform(texts)])
        self._model: Any = LinearSVC(C=1.0, random_state=0)
        self._model.fit(features.tocsr(), list(labels))
        self.labels: list[str] = [str(label) for label in self._model.classes_]

    def margins(self, text: str) -> list[float]:
        """The SVM's margin for each of `labels`."""
        features = self._hstack([self._chars.transform([text]), self._words.transform([text])])
        return [float(m) for m in self._model.decision_function(features.tocsr())[0]]

    def rank(self, text: str, scale: float = SOFTMAX_SCALE) -> list[tuple[str, float]]:
        """Intent names with their confidences (a softmax of `scale` x margins, summing to 1),
        most likely first."""
        margins = [m * scale for m in self.margins(text)]
        top = max(margins)
        weights = [math.exp(m - top) for m in margins]
        total = sum(weights)
        ranked = sorted(zip(self.labels, weights, strict=True), key=lambda item: -item[1])
        return [(label, weight / total) for label, weight in ranked]


class OfflineParser:
    """Plain language to intents, offline.

    Args:
        examples: the training file (JSON lines of `{"text", "intent"}`).
        quote: the quote currency a bare base gets (`eth` -> `ETH/<quote>`).
        strategies: strategy names to recognise (default: the built-ins).
        threshold: the least confidence to act on; below it a question is returned.
        trade_threshold: the same for intents that trade.
    """

    def __init__(
        self,
        examples: Path = DEFAULT_EXAMPLES,
        *,
        quote: str = "USDT",
        strategies: Iterable[str] | None = None,
        threshold: float = THRESHOLD,
        trade_threshold: float = TRADE_THRESHOLD,
    ) -> None:
        self.examples_path = examples
        self.quote = quote.upper()
        self.threshold = threshold
        self.trade_threshold = trade_threshold
        self._strategy_names = tuple(strategies) if strategies is not None else None
        self._forms: dict[str, str] = {}
        self._known_words: frozenset[str] = frozenset()
        self._speller = Speller(())
        self._model: IntentModel | None = None

    @property
    def fitted(self) -> bool:
        """True once the classifier has been trained."""
        return self._model is not None

    def fit(self) -> None:
        """Train the classifier on the examples (done by the first `parse` if not before)."""
        names = self._strategy_names or _builtin_strategy_names()
        self._forms = strategy_forms(names)
        examples = load_examples(self.examples_path)
        self._known_words = frozenset(t.low for e in examples for t in tokenize(e.text))
        masked = [self._slots(e.text).masked for e in examples]
        self._speller = Speller(word for text in masked for word in text.split())
        self._model = IntentModel(masked, [e.intent for e in examples])

    def _fitted(self) -> IntentModel:
        if self._model is None:
            self.fit()
        if self._model is None:  # pragma: no cover - fit() always sets it
            raise RuntimeError("the intent model did not train")
        return self._model

    def _slots(self, text: str) -> Slots:
        return extract(text, self._forms, self.quote, self._known_words)

    def mask(self, text: str) -> str:
        """The text the classifier sees: values replaced by `zsym`, `znum`, `ztf`..., and
        misspelt words corrected to the training vocabulary."""
        self._fitted()
        return self._speller.correct_text(self._slots(text).masked)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Intent names with the classifier's confidences for `text`, most likely first."""
        return self._fitted().rank(self.mask(text))

    def parse(self, text: str) -> ParseResult:
        """The intent of one message, or a clarifying question, or a polite error."""
        model = self._fitted()
        if not text.strip() or is_hostile(text):
            return ParseResult(Unknown(), 1.0, "offline")
        slots = self._slots(text)
        ranked = model.rank(self._speller.correct_text(slots.masked))
        name, confidence = ranked[0]
        if name == "unknown":
            return ParseResult(Unknown(), confidence, "offline")
        needed = self.trade_threshold if name in _TRADING else self.threshold
        runner_up = ranked[1][1] if ranked[1][0] != "unknown" else 0.0
        if confidence < needed or runner_up >= AMBIGUITY_RATIO * confidence:
            return _clarify(ranked, confidence)
        try:
            intent = validate(name, fill_args(name, slots), quote=self.quote)
        except SlotError as exc:
            return ParseResult(None, confidence, "offline", error=str(exc), candidates=(name,))
        except ArgumentError as exc:
            return _missing_or_error(name, exc, confidence)
        except IntentError as exc:  # pragma: no cover - the classifier only knows registry names
            return ParseResult(None, confidence, "offline", error=str(exc))
        return ParseResult(intent, confidence, "offline")


def _builtin_strategy_names() -> list[str]:
    # the strategy modules pull in pandas; only a fitted parser needs their names
    from botcore.strategy.builtins import BUILTINS

    return [cls.name for cls in BUILTINS]


def _clarify(ranked: list[tuple[str, float]], confidence: float) -> ParseResult:
    options = [name for name, _ in ranked[:2] if name != "unknown"]
    first = COMMANDS[options[0]]
    if len(options) == 2 and ranked[1][1] >= confidence / 3:
        second = COMMANDS[options[1]]
        question = f"Did you mean {first.about} or {second.about}?"
    else:
        options = options[:1]
        question = (
            f"Did you mean {first.about}? Please say it a little more fully "
            f"(for example: {first.example}), or send /help."
        )
    return ParseResult(None, confidence, "offline", question=question, candidates=tuple(options))


_ASK = {
    "symbol": "which market",
    "strategy": "which strategy",
    "user": "which user",
    "price": "at what price",
    "condition": "above or below",
    "mode": "paper or live",
    "side": "buy or sell",
    "param": "which risk setting",
    "value": "to what value",
}


def _missing_or_error(name: str, exc: ArgumentError, confidence: float) -> ParseResult:
    spec = COMMANDS[name]
    arg: ArgSpec | None = spec.arg(exc.arg) if exc.arg else None
    if arg is not None and exc.problem == "missing":
        ask = _ASK.get(arg.name, f"which {arg.name}")
        question = f"I can do {spec.about}, but {ask}? For example: {spec.example}"
        return ParseResult(None, confidence, "offline", question=question, candidates=(name,))
    return ParseResult(None, confidence, "offline", error=str(exc), candidates=(name,))
