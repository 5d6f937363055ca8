"""The wheel carries the data, and an installed (non-editable) package finds it; the CLI answers."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from econ import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(out), str(ROOT)], check=True, cwd=out)
    (path,) = out.glob("econ-*.whl")
    return path


def test_wheel_contains_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.name for p in (ROOT / "data").iterdir() if p.suffix in {".csv", ".json", ".geojson", ".md", ".toml"}]
    assert "registry.toml" in shipped
    assert shipped, "no data files found"
    missing = [n for n in shipped if f"econ/data/{n}" not in names]
    assert not missing, f"data files not in the wheel: {missing}"


def test_load_works_from_the_installed_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import econ, pathlib; assert pathlib.Path(econ.__file__).is_relative_to(pathlib.Path(r'%s')); "
            "t = econ.datasets.list(); "
            "[econ.datasets.load(n) for n in t['name']]; print(len(t))" % site)
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(site), "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.strip()) >= 10


def test_cli_help_and_data_commands(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    assert "data" in capsys.readouterr().out
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "china_prefectures" in out and "china_cities_demo" in out and "simulated" in out
    assert cli.main(["data", "show", "broadband_china_entities", "--head", "2"]) == 0
    assert "Provenance" in capsys.readouterr().out


def test_cli_unknown_dataset_is_a_clear_error(capsys):
    assert cli.main(["data", "show", "no_such_data"]) == 2
    assert "no_such_data" in capsys.readouterr().err


def test_console_script_runs():
    exe = Path(sys.executable).with_name("econ")
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    run = subprocess.run([str(exe), "data", "list"], capture_output=True, text=True)
    assert run.returncode == 0 and "china_cities_demo" in run.stdout
