"""The keywords of the modeling language, in one list.

Used by documentation tooling (syntax highlighting) and kept in step with the
grammar by tests/test_keywords.py, which compares it with the words the
grammar in spec/grammar/spec.lark accepts. Keywords are contextual: lark's
lexer only treats a word as a keyword where the grammar can use it there.
"""

KEYWORDS: frozenset[str] = frozenset({
    "acquire", "action", "alloc", "and", "any", "as", "assert", "assume", "atomic", "attach",
    "await", "back", "bool", "def", "detach", "detached", "dict", "else", "enum", "exists",
    "expect", "false", "forall", "fork", "free", "guarded_by", "holds", "if", "include",
    "init", "insert", "int", "interpreters", "invariant", "keep_gil", "lemma", "lock", "model",
    "mutex", "none", "not", "object", "or", "param", "proc", "raw", "read", "reinit",
    "release", "releases_gil", "remove", "resize", "rlock", "shared", "skip", "sort", "sweep",
    "switch", "then", "threads", "to", "true", "tstate", "var", "via", "violated", "when",
    "write",
})

# built-in functions and names: not keywords, but highlighted as built-ins
BUILTINS: frozenset[str] = frozenset({
    "holder", "held", "level", "owner", "alive", "has", "cur", "gil", "live", "bound",
    "running", "idle", "at", "saved", "arg", "main",
})
