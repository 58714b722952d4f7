"""Turn the user guide's Markdown into the HTML page Help → User Guide shows.

    python packaging/guide_html.py           # rewrite heapgui/resources/guide/index.html
    python packaging/guide_html.py --check   # exit 1 when index.html is out of date

Only the Markdown the guide uses is understood: headings, paragraphs, fenced
code, flat bullet and numbered lists (with indented continuation lines and
code), pipe tables, `code`, **bold**, *emphasis* and [links](url). The page
must read well in Qt's QTextBrowser, which knows a subset of HTML 4 and CSS,
so it stays plain. A script rather than a library keeps the build free of
another dependency.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

GUIDE_DIR = Path(__file__).resolve().parent.parent / "heapgui" / "resources" / "guide"
SOURCE = GUIDE_DIR / "guide.md"
TARGET = GUIDE_DIR / "index.html"

STYLE = """
body { font-family: sans-serif; line-height: 1.4; max-width: 52em; margin: 1em auto; }
h1, h2, h3 { font-weight: 600; }
code, pre { font-family: monospace; }
pre { background-color: #eef1f6; color: #1b2230; padding: 6px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #9aa5b8; padding: 4px 6px; vertical-align: top; }
th { background-color: #eef1f6; color: #1b2230; text-align: left; }
"""

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*(.+?)\*|\[([^\]]+)\]\(([^)\s]+)\)")
_ITEM = re.compile(r"^(\s*)(?:([-*])|(\d+)\.)\s+(.*)$")
_RULE = re.compile(r"^\|?\s*:?-{3,}")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def inline(text: str) -> str:
    """Inline markup; code spans are taken literally, everything else is escaped."""
    out, last = [], 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        code, strong, emphasis, label, url = match.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code, quote=False)}</code>")
        elif strong is not None:
            out.append(f"<b>{inline(strong)}</b>")
        elif emphasis is not None:
            out.append(f"<i>{inline(emphasis)}</i>")
        else:
            out.append(f'<a href="{html.escape(url)}">{inline(label)}</a>')
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


class _Converter:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0
        self.out: list[str] = []
        self.toc: list[tuple[str, str]] = []

    def run(self) -> str:
        while self.i < len(self.lines):
            self.block()
        return "\n".join(self.out)

    def block(self) -> None:
        line = self.lines[self.i]
        if not line.strip():
            self.i += 1
        elif line.startswith("#"):
            self.heading(line)
        elif line.lstrip().startswith("```"):
            self.out.append(self.code(indent=len(line) - len(line.lstrip())))
        elif line.startswith("|"):
            self.table()
        elif _ITEM.match(line):
            self.list()
        else:
            self.paragraph()

    def heading(self, line: str) -> None:
        level = len(line) - len(line.lstrip("#"))
        text = line[level:].strip()
        anchor = slug(text)
        if level == 2:
            self.toc.append((anchor, text))
        self.out.append(f'<h{level} id="{anchor}"><a name="{anchor}"></a>{inline(text)}</h{level}>')
        self.i += 1

    def code(self, indent: int) -> str:
        self.i += 1
        body = []
        while self.i < len(self.lines) and not self.lines[self.i].lstrip().startswith("```"):
            body.append(self.lines[self.i][indent:])
            self.i += 1
        self.i += 1  # the closing fence
        return f"<pre><code>{html.escape(chr(10).join(body), quote=False)}</code></pre>"

    def table(self) -> None:
        header = _cells(self.lines[self.i])
        self.i += 1
        if self.i < len(self.lines) and _RULE.match(self.lines[self.i]):
            self.i += 1
        rows = []
        while self.i < len(self.lines) and self.lines[self.i].startswith("|"):
            rows.append(_cells(self.lines[self.i]))
            self.i += 1
        head = "".join(f"<th>{inline(c)}</th>" for c in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>\n" for row in rows
        )
        self.out.append(f'<table cellspacing="0" cellpadding="4">\n<tr>{head}</tr>\n{body}</table>')

    def paragraph(self) -> None:
        text = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip() or line.startswith(("#", "|", "```")) or _ITEM.match(line):
                break
            text.append(line.strip())
            self.i += 1
        self.out.append(f"<p>{inline(' '.join(text))}</p>")

    def list(self) -> None:
        ordered = _ITEM.match(self.lines[self.i]).group(3) is not None
        tag = "ol" if ordered else "ul"
        items = []
        while self.i < len(self.lines):
            match = _ITEM.match(self.lines[self.i])
            if match is None or match.group(1):
                break
            items.append(self.item(match.group(4)))
            # Items separated by blank lines still belong to one list.
            after = self.i
            while after < len(self.lines) and not self.lines[after].strip():
                after += 1
            if after < len(self.lines) and _ITEM.match(self.lines[after]):
                self.i = after
        self.out.append(f"<{tag}>\n" + "\n".join(items) + f"\n</{tag}>")

    def item(self, first: str) -> str:
        """One list item: its text, continuation lines, and indented paragraphs or code."""
        parts, text = [], [first.strip()]
        self.i += 1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip():
                following = self.lines[self.i + 1] if self.i + 1 < len(self.lines) else ""
                if not following.startswith("  "):
                    break
                self.i += 1
                continue
            if not line.startswith("  "):
                break
            if line.lstrip().startswith("```"):
                if text:
                    parts.append(f"<p>{inline(' '.join(text))}</p>")
                    text = []
                parts.append(self.code(indent=len(line) - len(line.lstrip())))
                continue
            if text and not self.lines[self.i - 1].strip():
                parts.append(f"<p>{inline(' '.join(text))}</p>")
                text = []
            text.append(line.strip())
            self.i += 1
        if text:
            parts.append(f"<p>{inline(' '.join(text))}</p>" if parts else inline(" ".join(text)))
        return f"<li>{''.join(parts)}</li>"


def convert(markdown: str) -> str:
    converter = _Converter(markdown.splitlines())
    body = converter.run()
    title = re.sub(r"<[^>]+>", "", converter.out[0]) if converter.out else "heapgui"
    toc = "".join(f'<li><a href="#{a}">{inline(t)}</a></li>' for a, t in converter.toc)
    # The table of contents goes right after the title.
    first, _, rest = body.partition("\n")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{first}\n<ul>{toc}</ul>\n{rest}\n"
        "<!-- Generated from guide.md by packaging/guide_html.py; edit that file instead. -->\n"
        "</body>\n</html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when index.html is stale")
    args = parser.parse_args(argv)
    page = convert(SOURCE.read_text(encoding="utf-8"))
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != page:
            sys.stderr.write(f"{TARGET} is out of date: run python {Path(__file__).name}\n")
            return 1
        return 0
    TARGET.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
