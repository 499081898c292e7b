import pytest

from garrison.core.config import load_config, resolve_home
from garrison.core.errors import InputError


def test_home_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("GARRISON_HOME", str(tmp_path / "env"))
    assert resolve_home(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_home(None) == tmp_path / "env"
    monkeypatch.delenv("GARRISON_HOME")
    assert resolve_home(None).name == ".garrison"


def test_config_file_is_read(tmp_path):
    (tmp_path / "garrison.toml").write_text(
        '[hunt]\nbatch_size = 10\n[detectors]\ndisabled = ["sigma"]\n'
    )
    cfg = load_config(tmp_path)
    assert cfg.hunt.batch_size == 10 and cfg.detectors.disabled == ["sigma"]


@pytest.mark.parametrize(
    "text", ["[hunt\n", "[hunt]\nbogus = 1\n", "hunt = 3\n", "[hunt]\nbatch_size = 'x'\n"]
)
def test_bad_config_is_a_clear_error(tmp_path, text):
    (tmp_path / "garrison.toml").write_text(text)
    with pytest.raises(InputError):
        load_config(tmp_path)


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path, tmp_path / "nope.toml")


def test_ingest_tables_are_read(tmp_path):
    (tmp_path / "garrison.toml").write_text('[ingest.evtx]\nisolate = "always"\n')
    assert load_config(tmp_path).ingest == {"evtx": {"isolate": "always"}}
    (tmp_path / "garrison.toml").write_text("[ingest]\nevtx = 3\n")
    with pytest.raises(InputError, match="must be a table"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[hunts]\nbatch_size = 1\n", "[hunts]"),
        ("[hunt]\nbatch_size = 0\n", "[hunt] batch_size"),
        ("[hunt]\nrules = ['a', 3]\n", "[hunt] rules"),
        ("[hunt]\nbundled_rules = 1\n", "[hunt] bundled_rules"),
        ("[detectors]\ndisabled = 'sigma'\n", "[detectors] disabled"),
        ("[detectors]\nsigma = 3\n", "[detectors] sigma"),
    ],
)
def test_config_errors_name_table_key_and_file(tmp_path, text, named):
    path = tmp_path / "garrison.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(tmp_path)
    assert named in str(err.value) and str(path) in str(err.value)


def test_the_file_read_is_recorded(tmp_path):
    assert load_config(tmp_path).path is None
    (tmp_path / "garrison.toml").write_text('[detectors."ml.dga"]\nthreshold = 0.9\n')
    cfg = load_config(tmp_path)
    assert cfg.path == tmp_path / "garrison.toml"
    assert cfg.detectors.options == {"ml.dga": {"threshold": 0.9}}
