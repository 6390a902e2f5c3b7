"""A Pygments lexer for the modeling language.

Its keyword and built-in lists are ``spec.keywords`` (the lists the grammar is
tested against), so the highlighter cannot drift from the parser. Registered
with Sphinx by ``checker.sphinx`` and with Pygments through the
``pygments.lexers`` entry point (``pygmentize -l speccheck model.spec``).
Every character the grammar accepts has a rule; anything else is an Error
token, which tests/test_lexer.py looks for in every model.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
)

from spec.keywords import BUILTINS, KEYWORDS

# keywords that are values or types rather than statements
CONSTANTS = frozenset({"true", "false", "none"})
TYPES = frozenset({"bool", "int", "object", "dict", "mutex", "rlock"})
WORD_OPERATORS = frozenset({"and", "or", "not"})


class SpecLexer(RegexLexer):
    """speccheck models (``*.spec``)."""

    name = "speccheck"
    aliases = ["speccheck", "spec"]
    filenames = ["*.spec"]
    mimetypes = ["text/x-speccheck"]

    tokens = {
        "root": [
            (r"[ \t\r\n\f]+", Text.Whitespace),
            (r"///[^\n]*", String.Doc),
            (r"//[^\n]*", Comment.Single),
            (r"/\*(.|\n)*?\*/", Comment.Multiline),
            (r'"[^"\n]*"', String.Double),
            (r"[0-9]+", Number.Integer),
            (words(sorted(CONSTANTS), suffix=r"\b"), Keyword.Constant),
            (words(sorted(TYPES), suffix=r"\b"), Keyword.Type),
            (words(sorted(WORD_OPERATORS), suffix=r"\b"), Operator.Word),
            (words(sorted(KEYWORDS - CONSTANTS - TYPES - WORD_OPERATORS), suffix=r"\b"),
             Keyword),
            (words(sorted(BUILTINS), suffix=r"\b"), Name.Builtin),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r":=|->|==|!=|<=|>=|\.\.|[<>=+\-?]", Operator),
            (r"[{}()\[\],.:;]", Punctuation),
        ],
    }
