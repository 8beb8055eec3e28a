"""Untrusted artifacts and hostile storage: what SECURITY.md promises, checked.

* Audio named by a dataset cannot leave its folder (``..``, absolute names,
  symlinks out); the folder itself may be anywhere the user chose.
* Checkpoints: remote code only with ``--trust-remote-code``, pickle-only
  weights only with ``--allow-pickle``, safetensors preferred.
* Nothing in the package unpickles results or loads YAML unsafely (a scan of
  the source, so a new ``pickle.load`` or ``yaml.load`` fails CI).
* A read-only output directory and a full disk, for real where the machine
  lets a test mount a read-only bind or a tiny tmpfs in a private namespace.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from s2sbench.cli.main import main
from s2sbench.core.checkpoint_files import check_checkpoint_dir
from s2sbench.core.errors import DataError, ModelError
from s2sbench.data.audio import check_contained
from s2sbench.requests.build import AudioHasher
from s2sbench.scores.store import STORE_NAME

PACKAGE = Path(__file__).resolve().parent.parent / "s2sbench"
TESTS = Path(__file__).resolve().parent
HASH_RUN = ["run", "--model", "fake_models:HashModel", "--tasks", "sample_story_en"]
HASH_RUN += ["--conditions", "t2t", "--no-progress"]


def wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(1600, dtype=np.float32), 16000)
    return path


# -- dataset paths -------------------------------------------------------------------------------
def test_audio_paths_cannot_leave_the_dataset_folder(tmp_path: Path) -> None:
    audio = tmp_path / "data" / "wav"
    secret = wav(tmp_path / "secret" / "key.wav")
    wav(audio / "0.wav")
    (audio / "1.wav").symlink_to(secret)
    (audio / "2.wav").symlink_to(audio / "0.wav")  # a link that stays inside is fine
    check_contained(audio / "0.wav", audio, "x")
    check_contained(audio / "2.wav", audio, "x")
    for escape in (audio / "1.wav", audio / ".." / ".." / "secret" / "key.wav", secret):
        with pytest.raises(DataError, match="leaves its dataset folder"):
            check_contained(escape, audio, "item 7")
    hasher = AudioHasher()
    with pytest.raises(DataError, match=r"1\.wav \(item 1 of task 't'\).*leaves"):
        hasher(audio / "1.wav", "t", "1")
    with pytest.raises(DataError, match="leaves"):
        hasher(audio / ".." / ".." / "secret" / "key.wav", "t", "3")
    assert hasher(audio / "2.wav", "t", "2") == hasher(audio / "0.wav", "t", "0")


def test_an_audio_folder_that_is_itself_a_link_is_the_users_choice(tmp_path: Path) -> None:
    real = tmp_path / "disk2" / "wav"
    wav(real / "0.wav")
    (tmp_path / "wav").symlink_to(real, target_is_directory=True)
    assert AudioHasher()(tmp_path / "wav" / "0.wav", "t", "0")


# -- checkpoints ---------------------------------------------------------------------------------
def checkpoint(tmp_path: Path, *weights: str, auto_map: bool = False) -> Path:
    directory = tmp_path / "ckpt"
    directory.mkdir()
    config = {"model_type": "gpt2", **({"auto_map": {"AutoModel": "x.Y"}} if auto_map else {})}
    (directory / "config.json").write_text(json.dumps(config))
    for name in weights:
        (directory / name).write_bytes(b"\0" * 8)
    return directory


def test_pickle_weights_need_allow_pickle_and_safetensors_win(tmp_path: Path) -> None:
    pickled = checkpoint(tmp_path, "pytorch_model.bin")
    with pytest.raises(ModelError, match="--allow-pickle"):
        check_checkpoint_dir(pickled, trust_remote_code=False, allow_pickle=False)
    check_checkpoint_dir(pickled, trust_remote_code=False, allow_pickle=True)
    (pickled / "model.safetensors").write_bytes(b"\0" * 8)  # both: safetensors, no flag needed
    check_checkpoint_dir(pickled, trust_remote_code=False, allow_pickle=False)


def test_remote_code_needs_trust_remote_code(tmp_path: Path) -> None:
    remote = checkpoint(tmp_path, "model.safetensors", auto_map=True)
    with pytest.raises(ModelError, match="--trust-remote-code"):
        check_checkpoint_dir(remote, trust_remote_code=False, allow_pickle=False)
    check_checkpoint_dir(remote, trust_remote_code=True, allow_pickle=False)


UNSAFE = {
    r"\bpickle\.loads?\(": "unpickling",
    r"\btorch\.load\(": "torch.load (pickle)",
    r"\byaml\.(load|unsafe_load|full_load)\(": "unsafe YAML",
    r"\bnp\.load\([^)]*allow_pickle=True": "pickled numpy",
    r"trust_remote_code\s*=\s*True": "remote code forced on",  # allowed behind the gate
    r"(?<![.\w])(eval|exec)\(": "eval/exec",
}
# The espeak child process pickles its replies over its own pipe to its parent: not data.
TRUSTED_PIPES = {"data/tts/espeak.py": {"unpickling"}}


def test_no_unsafe_loading_anywhere_in_the_package() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        for pattern, what in UNSAFE.items():
            if re.search(pattern, text) and what not in TRUSTED_PIPES.get(rel, set()):
                if what == "remote code forced on" and "require_remote_code(" in text:
                    continue  # switched on only after the user's --trust-remote-code was checked
                found.append(f"{rel}: {what}")
    assert found == []


# -- hostile storage, for real ------------------------------------------------------------------
def namespace_mounts_work(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    script = f'mount -t tmpfs -o size=16k tmpfs "{probe}" && mount -o remount,bind,ro "{probe}"'
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    if not namespace_mounts_work(tmp_path):
        pytest.skip("cannot mount in a private namespace here; the simulated cases still run")
    out = tmp_path / "out"
    assert main([*HASH_RUN, "--limit", "3", "--output-path", str(out)]) == 0
    return out


def cli_in_namespace(setup: str, out: Path, save: Path, *args: str) -> tuple[int, str]:
    """Run ``s2sbench`` after ``setup`` in a private mount namespace; copy ``out`` to ``save``."""
    save.mkdir()
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    cli = " ".join([sys.executable, "-m", "s2sbench", *HASH_RUN, *args, "--output-path", str(out)])
    script = f'set -e; {setup}; set +e; {cli} 2> "{save}/.err"; echo $? > "{save}/.rc"; '
    script += f'rm -f "{out}/filler"; cp -a "{out}/." "{save}/"'
    env = {**os.environ, "PYTHONPATH": path}
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, env=env, timeout=120)
    return int((save / ".rc").read_text()), (save / ".err").read_text()


def test_read_only_output_directory(earlier: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in earlier.iterdir()}
    setup = f'mount -o bind,ro "{earlier}" "{earlier}"'
    code, err = cli_in_namespace(setup, earlier, tmp_path / "save", "--limit", "5")
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "Read-only file system" in err and str(earlier) in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == before


def test_full_disk_keeps_earlier_results_and_resumes(earlier: Path, tmp_path: Path) -> None:
    """A tmpfs filled to the last byte: the next score append hits the kernel's ENOSPC."""
    stash = shutil.copytree(earlier, tmp_path / "stash")
    setup = (
        f'mount -t tmpfs -o size=64k tmpfs "{earlier}"; cp -a "{stash}/." "{earlier}/"; '
        f'(cat /dev/zero > "{earlier}/filler") 2>/dev/null || true'
    )
    save = tmp_path / "save"
    code, err = cli_in_namespace(setup, earlier, save)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"cannot append to {earlier}/{STORE_NAME} (No space left on device)" in err
    assert "Traceback" not in err
    assert (save / "results.json").read_bytes() == (stash / "results.json").read_bytes()
    assert (save / STORE_NAME).read_bytes().startswith((stash / STORE_NAME).read_bytes())
    for name in (".err", ".rc"):
        (save / name).unlink()
    assert main([*HASH_RUN, "--output-path", str(save)]) == 0  # resumes once there is space
    fresh = tmp_path / "fresh"
    assert main([*HASH_RUN, "--output-path", str(fresh)]) == 0
    assert (save / STORE_NAME).read_bytes() == (fresh / STORE_NAME).read_bytes()
