"""The README carries the bundled user guide verbatim, and CI runs its test command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _between(text: str, marker: str) -> str:
    return text.split(f"<!-- {marker} -->\n", 1)[1].split(f"<!-- /{marker} -->", 1)[0]


def test_readme_holds_the_user_guide():
    readme = (ROOT / "README.md").read_text()
    guide = (ROOT / "heapgui" / "resources" / "guide" / "guide.md").read_text()
    body = guide.split("\n", 1)[1].lstrip("\n")
    # The README nests the guide one heading level deeper.
    demoted = "\n".join("#" + line if line.startswith("#") else line for line in body.splitlines())
    assert _between(readme, "guide") == demoted + "\n"


def test_ci_runs_the_quick_start_test_command():
    readme = (ROOT / "README.md").read_text()
    command = [
        line
        for line in _between(readme, "test-command").splitlines()
        if line and not line.startswith("```")
    ]
    assert len(command) == 1 and "pytest" in command[0] and "[test]" in command[0]
    assert "<!-- test-command -->" in (ROOT / ".ci" / "run").read_text()
