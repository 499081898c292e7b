"""Input lines of the batch text scorers (``garrison score dga|url``)."""

from __future__ import annotations


def decode_line(line: str | bytes) -> tuple[str, str]:
    """The line as text without its line end and, if it was not valid UTF-8, the reason
    (the text then has the undecodable bytes replaced, for the output's ``input``)."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return line.decode("utf-8", "replace").rstrip("\r\n"), "not valid UTF-8"
    else:
        text = line
    return text.rstrip("\r\n"), ""
