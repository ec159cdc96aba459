"""Every ```python block in README.md runs as written (each in a fresh process).

A block whose first line is ``# needs: a, b`` is skipped, with that reason, unless each of those
modules imports (``cuda`` means a usable CUDA device).
"""

import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _missing(block: str) -> list:
    first = block.splitlines()[0]
    if not first.startswith("# needs:"):
        return []
    missing = []
    for need in (n.strip() for n in first.removeprefix("# needs:").split(",")):
        if need == "cuda":
            import ember
            if not ember.cuda_available():
                missing.append("a CUDA device")
        elif importlib.util.find_spec(need) is None:
            missing.append(need)
    return missing


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path):
    block = BLOCKS[index]
    missing = _missing(block)
    if missing:
        pytest.skip(f"README block {index} needs {', '.join(missing)}")
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"README block {index} failed:\n{block}\n--- stderr ---\n{done.stderr}"


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
