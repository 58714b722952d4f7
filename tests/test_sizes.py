import pytest

from heapgui.errors import HeapguiError
from heapgui.sizes import format_size, parse_size


@pytest.mark.parametrize(
    "size,text",
    [
        (0, "0"),
        (4, "4"),
        (1024, "1K"),
        (10240, "10K"),
        (1 << 20, "1M"),
        (1536, "1536"),
        (3 << 20, "3M"),
        (1025, "1025"),
    ],
)
def test_format_size(size, text):
    assert format_size(size) == text


@pytest.mark.parametrize(
    "text,size",
    [
        ("10K", 10240),
        ("1M", 1 << 20),
        ("0x400", 1024),
        ("0X10", 16),
        ("0400", 256),
        ("0", 0),
        ("300", 300),
        ("0x1K", 1024),
    ],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["10Q", "", "K", "-4", "1_0", "0x", "09", "1.5K"])
def test_parse_size_rejects(text):
    with pytest.raises(HeapguiError, match="invalid size"):
        parse_size(text)


@pytest.mark.parametrize("text", ["0x0x10", "00o17", "0x", "+4", "1_000", "4 K", "", "\u0663"])
def test_parse_size_takes_only_plain_digits(text):
    with pytest.raises(HeapguiError, match="invalid size"):
        parse_size(text)
