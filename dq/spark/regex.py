"""A contract's regex (RE2, as DuckDB's `regexp_matches` reads it) as a Java regex of the same meaning.

Spark's RLIKE is `java.util.regex`, which reads some of the same text differently: `.` also stops
at `\\r` and `\\u2028`, `$` also matches before a final newline, `\\s` also takes `\\x0B`, `\\b` and
`\\v` mean other things, `[a[b]]` is a union and `[a&&b]` an intersection, `x*+` is possessive.
Both search (a match anywhere, as `regexp_matches` does). The pattern is rewritten token by token
into a subset both read alike; anything outside that subset is refused (`UnsafeRegex`), never
passed on to mean something else.
"""

from __future__ import annotations

_META = set("\\.^$|?*+()[]{}")
_SAME_ESCAPES = set("dDwWnrtfAz")  # classes and characters both read alike (ASCII \d \w in both)
_SPACE = "\\t\\n\\f\\r "  # RE2's \s (Java's also has \x0B)


class UnsafeRegex(ValueError):
    """A pattern whose meaning may differ between RE2 and Java: the message says which part."""


def java_regex(pattern: str) -> str:
    """The Java regex with the RE2 pattern's meaning, or UnsafeRegex."""
    out: list[str] = []
    i, n = 0, len(pattern)
    quantifiable = False
    while i < n:
        char = pattern[i]
        if char == "\\":
            text, i = _escape(pattern, i, in_class=False)
            out.append(text)
            quantifiable = True
        elif char == "[":
            text, i = _char_class(pattern, i)
            out.append(text)
            quantifiable = True
        elif char == ".":
            out.append("[^\\n]")
            i, quantifiable = i + 1, True
        elif char == "$":
            out.append("\\z")
            i, quantifiable = i + 1, False
        elif char == "(":
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif pattern.startswith("(?", i):
                raise UnsafeRegex(f"the group at position {i} ({pattern[i : i + 4]}...): flags and named groups")
            else:
                out.append("(")
                i += 1
            quantifiable = False
        elif char in "*+?{":
            if not quantifiable:
                raise UnsafeRegex(f"the repetition {char!r} at position {i} repeats nothing")
            text, i = _quantifier(pattern, i)
            out.append(text)
            quantifiable = False
        elif char in ")|^":
            out.append(char)
            i += 1
            quantifiable = char == ")"
        elif char in "]}":
            raise UnsafeRegex(f"the unmatched {char!r} at position {i}")
        else:
            out.append(char)
            i, quantifiable = i + 1, True
    return "".join(out)


def _quantifier(pattern: str, i: int) -> tuple[str, int]:
    if pattern[i] == "{":
        end = pattern.find("}", i)
        body = pattern[i + 1 : end] if end > 0 else ""
        low, _, high = body.partition(",")
        if end < 0 or not low.isdigit() or not (high == "" or high.isdigit()):
            raise UnsafeRegex(f"the brace at position {i} (RE2 reads it as text, Java refuses it)")
        text, i = pattern[i : end + 1], end + 1
    else:
        text, i = pattern[i], i + 1
    if i < len(pattern) and pattern[i] == "?":
        return text + "?", i + 1  # lazy: the same in both
    if i < len(pattern) and pattern[i] in "*+{":
        raise UnsafeRegex(f"the repetition at position {i} follows another (possessive in Java, an error in RE2)")
    return text, i


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    if i + 1 >= len(pattern):
        raise UnsafeRegex("the pattern ends in a lone backslash")
    char = pattern[i + 1]
    if not char.isalnum():
        return "\\" + char, i + 2  # an escaped punctuation character is itself in both
    if char in _SAME_ESCAPES and not (in_class and char in "Az"):
        return "\\" + char, i + 2
    if char == "s":
        return (_SPACE if in_class else f"[{_SPACE}]"), i + 2
    if char == "S" and not in_class:
        return f"[^{_SPACE}]", i + 2
    raise UnsafeRegex(f"the escape \\{char} at position {i} (RE2 and Java read it differently or not at all)")


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    out = ["["]
    i += 1
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        raise UnsafeRegex(f"the ']' first in the class at position {i}")
    while i < len(pattern):
        char = pattern[i]
        if char == "]":
            if len(out) == 1 or out == ["[", "^"]:
                raise UnsafeRegex(f"the empty class at position {i}")
            out.append("]")
            return "".join(out), i + 1
        if char == "\\":
            text, i = _escape(pattern, i, in_class=True)
            out.append(text)
        elif char == "[" or pattern.startswith("&&", i):
            raise UnsafeRegex(f"the {pattern[i : i + 2]!r} inside a class at position {i} (a union or POSIX class)")
        else:
            out.append(char)
            i += 1
    raise UnsafeRegex("a character class is not closed")
