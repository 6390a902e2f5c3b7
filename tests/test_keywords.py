"""The keyword list used outside the parser matches the grammar."""

from spec.keywords import BUILTINS, KEYWORDS
from spec.parser import grammar_keywords
from spec.typecheck import BUILTIN_FUNCTIONS


def test_keyword_list_matches_the_grammar() -> None:
    """spec/keywords.py lists exactly the words the grammar accepts as keywords."""
    assert KEYWORDS == grammar_keywords()


def test_builtin_list_matches_the_type_checker() -> None:
    """Every built-in function the type checker knows is listed as a built-in."""
    assert set(BUILTIN_FUNCTIONS) <= BUILTINS
    assert not (BUILTINS & KEYWORDS)
