"""The README's example on bundled data runs as written (a new user's first contact with the package)."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_on_bundled_data_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    example = next(b for b in blocks if "china_cities_demo" in b)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
    assert namespace["pl"].n_draws == 1000
    assert abs(namespace["cs"].aggregate("simple").overall_att) > 0


def test_readme_quick_start_is_the_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = re.search(r"## Quick start.*?```bash\n(.*?)```", text, flags=re.S).group(1)
    assert [line.split()[:2] for line in quick.strip().splitlines()] == [["make", "replicate"], ["make", "test"]]
