"""The Pygments lexer of the modeling language (checker/sphinx/lexer.py) stays in
step with the grammar and highlights every model without error tokens."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Operator, String, Token

from checker.sphinx.lexer import SpecLexer
from spec.keywords import BUILTINS
from spec.parser import grammar_keywords

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.spec")) + sorted(
    (ROOT / "docs" / "tutorial").glob("*.spec"))


def _tokens(text: str) -> list[tuple[object, str]]:
    return [(t, v) for t, v in SpecLexer().get_tokens(text) if v.strip()]


def test_every_grammar_keyword_is_highlighted_as_a_keyword():
    """Straight from the grammar (not from spec/keywords.py): a keyword the grammar
    gains and the lexer misses fails here."""
    for word in sorted(grammar_keywords()):
        ((kind, value),) = _tokens(word)
        assert value == word
        assert kind in Keyword or kind is Operator.Word, (word, kind)


def test_builtins_and_names():
    for word in sorted(BUILTINS):
        assert _tokens(word) == [(Name.Builtin, word)], word
    # prefixes and extensions of keywords are plain names
    for word in ("acquired", "lockx", "my_lock", "if_", "Thread", "t1"):
        assert _tokens(word) == [(Name, word)], word


def test_comments_strings_and_operators():
    text = ('/// doc\n// note\n/* block\ncomment */ include "runtime.spec"\n'
            "x := y -> z == 1 != 2 <= 3 >= 4 .. ?\n")
    kinds = dict((v, k) for k, v in _tokens(text))
    assert kinds["/// doc"] is String.Doc
    assert kinds["// note"] in Comment
    assert kinds["/* block\ncomment */"] in Comment
    assert kinds['"runtime.spec"'] in String
    for op in (":=", "->", "==", "!=", "<=", ">=", "..", "?"):
        assert kinds[op] in Operator, op


def test_unknown_characters_are_errors():
    """The lexer has no catch-all rule: a character the grammar rejects is an Error
    token (so the test over the models below can fail)."""
    assert any(kind is Error for kind, _ in _tokens("x := y @ 1"))
    assert any(kind is Error for kind, _ in _tokens("a # b"))


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_models_lex_without_errors(model: Path):
    text = model.read_text(encoding="utf-8")
    tokens = list(SpecLexer(stripnl=False).get_tokens(text))
    bad = [v for t, v in tokens if t in Token.Error]
    assert not bad, f"{model.name}: error tokens {bad[:5]}"
    # nothing dropped: the tokens spell the file (Pygments adds a final newline)
    assert "".join(v for _, v in tokens) == (text if text.endswith("\n") else text + "\n")


def test_models_exist():
    assert len(MODELS) >= 4


def test_registered_as_a_pygments_plugin():
    """pyproject.toml's entry point (needs the package installed, as CI does)."""
    found = [e for e in entry_points(group="pygments.lexers") if e.name == "speccheck"]
    assert found, "reinstall the package (pip install -e .) to register the entry point"
    assert found[0].load() is SpecLexer
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
    assert isinstance(get_lexer_by_name("speccheck"), SpecLexer)
    assert isinstance(get_lexer_for_filename("extcache.spec"), SpecLexer)
