import pytest

from utils import profiles
from utils.profiles import PROFILES, resolve_profile


def test_wrong_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown profile 'colab'.*'auto', 't4', 'offline'"):
        resolve_profile("colab")


def test_env_var_overrides_auto(monkeypatch, capsys):
    monkeypatch.setenv("VLM_PROFILE", "offline")
    assert resolve_profile("auto") is PROFILES["offline"]
    assert "VLM_PROFILE=offline" in capsys.readouterr().out


def test_bad_env_var_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("VLM_PROFILE", "gpu")
    with pytest.raises(ValueError, match="VLM_PROFILE='gpu' is not a profile"):
        resolve_profile("auto")


@pytest.mark.parametrize("cuda,hub,expected", [(True, True, "t4"), (True, False, "offline"),
                                               (False, True, "offline"), (False, False, "offline")])
def test_auto_needs_cuda_and_the_hub(monkeypatch, capsys, cuda, hub, expected):
    monkeypatch.delenv("VLM_PROFILE", raising=False)
    monkeypatch.setattr(profiles.torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(profiles, "hub_reachable", lambda: hub)
    assert resolve_profile("auto").name == expected
    assert "CUDA" in capsys.readouterr().out


def test_explicit_name_ignores_env(monkeypatch):
    monkeypatch.setenv("VLM_PROFILE", "offline")
    assert resolve_profile("t4", verbose=False).name == "t4"


def test_profiles_differ_only_in_names_and_sizes():
    t4, off = PROFILES["t4"], PROFILES["offline"]
    assert t4.precision == "fp16" and off.precision == "fp32"
    assert t4.clip_pretrained == "openai" and off.clip_pretrained is None
    assert set(vars(t4)) == set(vars(off))
