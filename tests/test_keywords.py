"""spec/keywords.py stays in step with the grammar and the type checker."""

from __future__ import annotations

from pathlib import Path

from spec.keywords import BUILTINS, KEYWORDS
from spec.parser import grammar_keywords
from spec.typecheck import BUILTIN_FUNCTIONS

GRAMMAR = Path(__file__).resolve().parent.parent / "spec" / "grammar" / "spec.lark"


def test_keyword_list_matches_the_grammar():
    """KEYWORDS is exactly the set of words the grammar accepts as keywords."""
    assert grammar_keywords() == KEYWORDS


def test_every_quoted_word_in_the_grammar_is_a_keyword():
    """Each identifier-like quoted string in spec.lark is in KEYWORDS."""
    import re
    text = GRAMMAR.read_text(encoding="utf-8")
    body = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
    quoted = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', body))
    assert quoted and quoted <= KEYWORDS
    assert KEYWORDS - quoted == set(), "keywords the grammar does not mention"


def test_builtins_are_builtin_functions_or_main():
    """BUILTINS names the type checker's built-in functions (plus `main`)."""
    assert set(BUILTIN_FUNCTIONS) | {"main"} == BUILTINS
    assert not BUILTINS & KEYWORDS
