"""The offline engine: a deterministic parser for marketers' sentences (see parser.py)."""

from .parser import NO_SENTENCE, parse_sentence
from .vocabulary import Vocabulary

__all__ = ["NO_SENTENCE", "Vocabulary", "parse_sentence"]
