"""The wheel carries the data, and an installed (non-editable) package finds it; the CLI answers; the wheel
installs into a fresh virtual environment outside the checkout and runs a claim there."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from econ import cli

ROOT = Path(__file__).resolve().parents[1]
DIST = "econ-placebased"  # the PyPI distribution name ("econ" on PyPI is an unrelated 2007 package)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    litter = [ROOT / "build", ROOT / "econ_placebased.egg-info"]  # setuptools writes these into the checkout
    before = {p for p in litter if p.exists()}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(out), str(ROOT)], check=True, cwd=out)
    for p in set(litter) - before:  # an egg-info left in the checkout would pose as an installed distribution
        shutil.rmtree(p, ignore_errors=True)
    (path,) = out.glob("econ_placebased-*.whl")
    return path


def test_wheel_contains_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.name for p in (ROOT / "data").iterdir() if p.suffix in {".csv", ".json", ".geojson", ".md", ".toml"}]
    assert "registry.toml" in shipped
    assert shipped, "no data files found"
    missing = [n for n in shipped if f"econ/data/{n}" not in names]
    assert not missing, f"data files not in the wheel: {missing}"
    claims = [p.relative_to(ROOT).as_posix() for p in (ROOT / "replication").rglob("*")
              if p.suffix in {".toml", ".py", ".json"}]
    assert "replication/claims.toml" in claims
    missing = [n for n in claims if f"econ/{n}" not in names]
    assert not missing, f"claims files not in the wheel: {missing}"


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


def test_distribution_name_version_and_citation_agree():
    import econ

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["name"] == DIST and "version" in meta["dynamic"]
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{econ.__version__}"' in cff and f"pypi:{DIST}" in cff
    assert f"## {econ.__version__}" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"distribution is `{DIST}`" in readme and "pip install 'econ[" not in readme and "pip install econ\n" not in readme


def test_wheel_installs_into_a_fresh_venv_and_runs_a_claim(wheel, tmp_path):
    """Build -> install into a new venv (outside the checkout) -> load bundled data -> `econ replicate D1`.

    Offline and fast: the venv has no pip of its own (this interpreter's pip installs into it with --no-deps) and
    sees the runtime dependencies through a path entry to this environment's site-packages, added AFTER its own
    site-packages, so `econ` resolves to the installed wheel, not to the checkout or an editable install (a path
    entry in a .pth file does not run that directory's own .pth hooks, such as an editable finder)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                    "--quiet", "--disable-pip-version-check", str(wheel)], check=True, env=env, cwd=tmp_path)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    assert (site / "econ" / "data" / "mpdta.csv").exists()
    (site / "zz_host_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import importlib.metadata as m, pathlib, econ; "
            "print(json.dumps({'file': econ.__file__, 'version': m.version('%s'), 'v': econ.__version__, "
            "'rows': len(econ.datasets.load('mpdta'))}))" % DIST)
    run = subprocess.run([str(py), "-c", "import json; " + code], cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert Path(info["file"]).is_relative_to(site) and not Path(info["file"]).is_relative_to(ROOT)
    assert info["version"] == info["v"] and info["rows"] == 2500
    rep = subprocess.run([str(venv / "bin" / "econ"), "replicate", "D1", "--out", str(work / "results"),
                          "--no-progress"], cwd=work, env=env, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    record = json.loads((work / "results" / "D1" / "result.json").read_text(encoding="utf-8"))
    assert record["verdict"]["label"] == "reproduced" and record["versions"]["econ"] == info["v"]
