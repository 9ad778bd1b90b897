"""A contract's regex (RE2, as DuckDB's `regexp_matches` reads it) as a Java regex that matches
exactly the same strings, for Spark's `rlike` — or a refusal.

Spark runs `java.util.regex`, whose defaults differ from RE2's where no error shows: `.` also stops
at `\\r`, `$` also matches before a final newline, `\\s` also holds the vertical tab, `\\b` is a
Unicode word boundary, `[[:alpha:]]` is a union of the letters `:alph`, `&&` intersects classes.
Each of those is rewritten to the RE2 meaning; every construct not known to mean the same in both
(inline flags, lookarounds, back-references, possessive quantifiers, `\\p{..}`, ...) is refused, so
a pattern can never pass rows on Spark that DuckDB fails (fail closed).
"""

from __future__ import annotations

_WORD = "[0-9A-Za-z_]"
_SPACE = "\\t\\n\\f\\r "  # RE2's \s: no vertical tab (Java's \s has \x0B)
# RE2's ASCII word boundary; Java 17's \b looks at Unicode letters (é|foo is no boundary there)
_BOUNDARY = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NOT_BOUNDARY = f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"
# RE2's POSIX classes are ASCII, as Java's \p{Alpha} & co are
_POSIX = {
    "alnum": "\\p{Alnum}",
    "alpha": "\\p{Alpha}",
    "ascii": "\\x00-\\x7F",
    "blank": "\\t ",
    "cntrl": "\\p{Cntrl}",
    "digit": "0-9",
    "graph": "\\p{Graph}",
    "lower": "a-z",
    "print": "\\p{Print}",
    "punct": "\\p{Punct}",
    "space": "\\t\\n\\x0B\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
# escapes that mean the same in both (\d \w ASCII in both; control characters; hex code points)
_SAME_ESCAPES = set("dDwWtnrfaAz")


class UntranslatableRegex(ValueError):
    """The pattern uses a construct whose Java meaning is not known to equal RE2's."""


def java_regex(regex: str) -> str:
    """`regex` for Java's `Matcher.find` (what Spark's `rlike` runs), matching what RE2 matches."""
    out: list[str] = ["(?d)"]  # UNIX_LINES: `.` stops only at \n, as in RE2
    i, n = 0, len(regex)
    while i < n:
        ch = regex[i]
        if ch == "\\":
            piece, i = _escape(regex, i, in_class=False)
            out.append(piece)
        elif ch == "[":
            piece, i = _char_class(regex, i)
            out.append(piece)
        elif ch == "$":
            out.append("\\z")  # RE2's `$` (no multi-line flag) is the end of the text only
            i += 1
        elif ch == "(" and regex.startswith("(?", i) and not regex.startswith("(?:", i):
            raise UntranslatableRegex(f"group syntax {regex[i : i + 3]!r} (flags, lookarounds, names)")
        elif ch in "*+?}" and regex.startswith("+", i + 1):
            raise UntranslatableRegex(f"possessive quantifier {regex[i : i + 2]!r}")
        elif ch == "{" and regex.startswith("{,", i):
            raise UntranslatableRegex("a repetition `{,n}` (RE2 reads it as text, Java refuses it)")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _escape(regex: str, i: int, in_class: bool) -> tuple[str, int]:
    if i + 1 >= len(regex):
        raise UntranslatableRegex("a trailing backslash")
    ch = regex[i + 1]
    if not ch.isalnum():
        return regex[i : i + 2], i + 2  # an escaped punctuation character is that character
    if ch in _SAME_ESCAPES:
        return regex[i : i + 2], i + 2
    if ch == "x":
        return _hex(regex, i)
    if ch == "s":
        return (_SPACE if in_class else f"[{_SPACE}]"), i + 2
    if ch == "S" and not in_class:
        return f"[^{_SPACE}]", i + 2
    if ch == "b" and not in_class:
        return _BOUNDARY, i + 2
    if ch == "B" and not in_class:
        return _NOT_BOUNDARY, i + 2
    if ch == "Q" and not in_class:
        end = regex.find("\\E", i + 2)
        quoted = regex[i + 2 :] if end < 0 else regex[i + 2 : end]
        return "".join(f"\\x{{{ord(c):X}}}" for c in quoted), (len(regex) if end < 0 else end + 2)
    raise UntranslatableRegex(f"the escape \\{ch}")


def _hex(regex: str, i: int) -> tuple[str, int]:
    """`\\xhh` and `\\x{h..}`: the same code point in both."""
    if regex.startswith("{", i + 2):
        end = regex.find("}", i + 3)
        digits = regex[i + 3 : end] if end > 0 else ""
        if not digits or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise UntranslatableRegex("a malformed \\x{...}")
        return regex[i : end + 1], end + 1
    digits = regex[i + 2 : i + 4]
    if len(digits) != 2 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise UntranslatableRegex("a malformed \\xhh")
    return regex[i : i + 4], i + 4


def _char_class(regex: str, start: int) -> tuple[str, int]:
    """One `[...]`, with RE2's POSIX classes spelled out and nothing Java reads differently."""
    i = start + 1
    out = ["["]
    if regex.startswith("^", i):
        out.append("^")
        i += 1
    if regex.startswith("]", i):
        raise UntranslatableRegex("a `]` first in a character class")
    while i < len(regex):
        ch = regex[i]
        if ch == "]":
            return "".join(out) + "]", i + 1
        if ch == "\\":
            piece, i = _escape(regex, i, in_class=True)
            out.append(piece)
        elif regex.startswith("[:", i):
            end = regex.find(":]", i + 2)
            name = regex[i + 2 : end] if end > 0 else ""
            if name not in _POSIX:
                raise UntranslatableRegex(f"the class [:{name}:]")
            out.append(_POSIX[name])
            i = end + 2
        elif ch == "[" or regex.startswith("&&", i):
            raise UntranslatableRegex("a nested class or `&&` (Java unions and intersects them)")
        else:
            out.append(ch)
            i += 1
    raise UntranslatableRegex("an unclosed character class")
