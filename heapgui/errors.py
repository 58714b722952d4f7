"""Errors that reach the user as one line, never as a traceback."""


class HeapguiError(Exception):
    """Bad input or a refused operation; the message is shown to the user as is."""


class UnreadableTrace(HeapguiError):
    """A non-empty trace of which not one record could be decoded: a failed check, not a typo."""


class DecodeError(HeapguiError):
    """A trace or SWO stream that does not follow its format (strict mode or undetectable)."""

    def __init__(self, offset: int, expected: str, found: str = "", source: str = "") -> None:
        self.offset = offset
        self.expected = expected
        self.found = found
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.source}: " if self.source else ""
        found = f", found {self.found}" if self.found else ""
        return f"{where}offset {self.offset}: expected {self.expected}{found}"

    def with_source(self, source: str) -> "DecodeError":
        """Name the file once the caller knows it; decoders only see bytes."""
        return DecodeError(self.offset, self.expected, self.found, source)
