"""The offline engine: a deterministic parser for marketers' sentences (see parser.py)."""

from .parser import normalize, parse_sentence
from .vocabulary import Vocabulary

__all__ = ["Vocabulary", "normalize", "parse_sentence"]
