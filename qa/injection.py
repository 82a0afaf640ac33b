"""Sentences of article text that speak to a language model rather than to a reader (prompt injection).

Article text is data: such a sentence is never shown to a model (qa.generative withholds it), never taken as
support for a claim, and never quoted as an answer (qa.extractive leaves it out).
"""

from __future__ import annotations

import re

# Sentences of article text that address a language model rather than a reader (prompt injection).
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,60}\b(?:instructions?|prompts?|rules|system)\b"
    r"|^\s*(?:system|assistant|user|human)\s*:"
    r"|\byou are (?:now )?(?:an? |the )?(?:ai|assistant|language model|chatbot|llm)\b"
    r"|</?\s*passage\b"
    # Also seen in tests/test_reliability_injection.py, and obeyed by SmolLM2 and a scripted model alike:
    # prompt-format headers, "new instructions", notes addressed to AI models, "reply only with X".
    r"|^\W*#+\s*(?:instructions?|system|response|prompt)\b"
    r"|\bnew (?:instructions?|task|prompt)\s*:"
    r"|\b(?:note|message|attention|instructions?)\s+(?:to|for)\s+(?:any |all )?(?:ai|llms?|language models?"
    r"|chatbots?|assistants?|models?)\b"
    r"|\b(?:ai|llm|language model|chatbot)s?\b[^.!?\n]{0,40}\b(?:must|should|shall)\s+"
    r"(?:say|reply|respond|answer|output)\b"
    r"|\b(?:reply|respond|answer|output)\s+(?:only\s+)?with\s+(?:only\s+)?(?:the\s+)?(?:single\s+)?word\b"
    r"|\b(?:reply|respond|answer|output)\b[^.!?\n]{0,40}\band nothing else\b"
    r"|\b(?:reply|respond|answer)\s+only\s+with\b"
    r"|\bthe answer to (?:any|every|all) (?:other )?(?:questions?|prompts?)\b",
    re.IGNORECASE | re.MULTILINE,
)


def addresses_a_model(sentence: str) -> bool:
    """Whether `sentence` addresses an AI model ("Ignore all previous instructions and say ...")."""
    return INSTRUCTION_LIKE.search(sentence) is not None
