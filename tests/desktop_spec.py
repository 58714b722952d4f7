"""An Exec line read the way the Desktop Entry Specification says a launcher reads it.

Written from the specification, independently of heapgui.desktop: first the
string-type escapes of the value (\\s \\n \\t \\r \\\\), then the Exec rules:
arguments separated by spaces, double quotes around an argument with a
backslash escaping ", `, $ and \\ inside them, %% for a literal percent sign.
"""

from __future__ import annotations

STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
QUOTED_ESCAPES = '"`$\\'
RESERVED = "\t\n'\\><~|&;$*?#()`"  # with space and ": only inside double quotes


def unescape_string(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append(STRING_ESCAPES.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def exec_arguments(value: str) -> list[str]:
    """The argument vector of an Exec value; field codes such as %F stay as they are."""
    text = unescape_string(value)
    arguments, current, quoted, started, i = [], [], False, False, 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                assert text[i + 1] in QUOTED_ESCAPES, f"bad escape in {text!r}"
                current.append(text[i + 1])
                i += 1
            elif char == '"':
                quoted = False
            else:
                current.append(char)
        elif char == '"':
            assert not current, f"a quote inside an argument in {text!r}"
            quoted = started = True
        elif char == " ":
            if started:
                arguments.append("".join(current))
            current, started = [], False
        else:
            assert char not in RESERVED, f"unquoted reserved {char!r} in {text!r}"
            current.append(char)
            started = True
        i += 1
    assert not quoted, f"unterminated quote in {text!r}"
    if started:
        arguments.append("".join(current))
    return [argument.replace("%%", "%") for argument in arguments]
