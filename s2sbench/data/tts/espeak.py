"""espeak-ng through ctypes on the library shipped by ``espeakng-loader``.

The wheel has no ``espeak-ng`` binary, so we call the C API directly:
``espeak_Initialize`` in synchronous mode hands every chunk of 16-bit samples
(22050 Hz) to a callback that we collect.

Why a helper process: the library keeps its wave generator in C statics that
no API call resets (pitch-flutter phase, gain control, cycle counter), so the
same sentence comes out a few samples different every time it is spoken in
one process. Cached audio must be a function of (text, voice, rate), so we
keep one *pristine* initialised engine in a small helper process (started
with ``python -m s2sbench.data.tts.espeak``) and fork a child from it for
every utterance: each child starts from the identical state, seeds both
random generators espeak-ng uses, speaks once and exits. A fork of the small
single-threaded helper costs about a millisecond. The helper is shared by the
whole process and guarded by a lock, because the library is process-global.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from s2sbench.core.errors import ConfigError, ModelError

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # report errors to us instead of exiting the process
CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAM_RATE = 1
EE_OK = 0
RAND_SEED = 1

# Language -> the espeak-ng voice we use by default for it.
DEFAULT_VOICES: dict[str, str] = {"en": "en-us", "zh": "cmn"}

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Library:
    """The espeak-ng C library, initialised once (runs inside the helper process only)."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_ng_SetRandSeed.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.data_path = espeakng_loader.get_data_path()
        rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_path.encode(), INITIALIZE_DONT_EXIT
        )
        self.sample_rate = int(rate)
        self.version = (lib.espeak_Info(None) or b"?").decode()
        self._chunks: list[np.ndarray] = []
        # Keep a reference: ctypes frees the trampoline if the Python object dies.
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: Any, n_samples: int, _events: Any) -> int:
        if n_samples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0  # 0 = keep synthesising

    def speak(self, text: str | None, voice: str, rate_wpm: int) -> tuple[str, Any]:
        """("ok", int16 bytes), ("novoice", voice) or ("error", message); ``text=None`` checks."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            return "novoice", voice
        if text is None:
            return "ok", b""
        self.lib.espeak_SetParameter(PARAM_RATE, rate_wpm, 0)
        ctypes.CDLL(None).srand(RAND_SEED)  # breath noise uses libc rand()
        self.lib.espeak_ng_SetRandSeed(RAND_SEED)
        data = text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if err != EE_OK:
            return "error", f"espeak_Synth returned error {err}"
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return "ok", pcm.astype(np.int16).tobytes()


def _read_all(fd: int) -> bytes:
    parts = []
    while chunk := os.read(fd, 1 << 16):
        parts.append(chunk)
    return b"".join(parts)


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Helper-process loop: answer each request from a fresh fork of the pristine engine."""
    engine = _Library()
    pickle.dump(("hello", (engine.sample_rate, engine.version, engine.data_path)), replies)
    replies.flush()
    while True:
        try:
            text, voice, rate_wpm = pickle.load(requests)
        except EOFError:
            return
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            try:
                payload = pickle.dumps(engine.speak(text, voice, rate_wpm))
            except BaseException as exc:  # report anything to the parent, never hang it
                payload = pickle.dumps(("error", repr(exc)))
            view = memoryview(payload)
            while view:
                view = view[os.write(write_fd, view) :]
            os._exit(0)
        os.close(write_fd)
        data = _read_all(read_fd)
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
        reply = pickle.loads(data) if data else ("error", f"synthesis child died ({status})")
        pickle.dump(reply, replies)
        replies.flush()


class _Helper:
    """The parent's handle on the helper process; one per Python process, used under a lock."""

    _instance: _Helper | None = None
    _create_lock = threading.Lock()

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        # The helper must import this very copy of s2sbench, installed or not.
        package_parent = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "s2sbench.data.tts.espeak"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=env,
        )
        kind, payload = self._receive()
        if kind != "hello" or payload[0] <= 0:
            raise ModelError(
                "espeak-ng failed to initialise",
                hint="reinstall espeakng-loader: pip install --force-reinstall espeakng-loader",
            )
        self.sample_rate, self.version, self.data_path = payload
        atexit.register(self.close)

    def _receive(self) -> tuple[str, Any]:
        assert self.proc.stdout is not None
        try:
            return pickle.load(self.proc.stdout)
        except (EOFError, pickle.UnpicklingError):
            raise ModelError(
                "the espeak-ng helper process stopped unexpectedly",
                hint="run `python -m s2sbench.data.tts.espeak` to see its error",
            ) from None

    @classmethod
    def get(cls) -> _Helper:
        with cls._create_lock:
            current = cls._instance
            # A forked child must not share its parent's pipes: it gets its own helper.
            if current is None or current.pid != os.getpid() or current.proc.poll() is not None:
                current = cls._instance = cls()
            return current

    def request(self, text: str | None, voice: str, rate_wpm: int) -> tuple[str, Any]:
        assert self.proc.stdin is not None
        with self.lock:
            pickle.dump((text, voice, rate_wpm), self.proc.stdin)
            self.proc.stdin.flush()
            return self._receive()

    def close(self) -> None:
        if self.pid == os.getpid() and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class EspeakTTS:
    """The offline default TTS: espeak-ng voices ``en-us`` (English) and ``cmn`` (Mandarin).

    ``voice=None`` picks the language's default voice per call; a fixed voice
    is checked when the backend is built, so a typo fails before any rendering.
    """

    name = "espeak"

    def __init__(self, voice: str | None = None, rate_wpm: int = 175, **_ignored: Any):
        self.voice = voice
        self.rate_wpm = int(rate_wpm)
        if voice is not None and self.helper.request(None, voice, self.rate_wpm)[0] != "ok":
            raise ConfigError(
                f"espeak-ng has no voice '{voice}'",
                hint="use a voice name espeak-ng knows, e.g. en-us or cmn (or omit it)",
            )

    @property
    def helper(self) -> _Helper:
        """Looked up per call, so an object inherited by a forked process uses its own helper."""
        return _Helper.get()

    def voice_for(self, lang: str) -> str:
        """The voice used for ``lang``: the fixed one, else the language default."""
        if self.voice is not None:
            return self.voice
        try:
            return DEFAULT_VOICES[lang]
        except KeyError:
            raise ConfigError(
                f"no default espeak-ng voice for language '{lang}'",
                hint=f"pass a voice explicitly; defaults exist for {', '.join(DEFAULT_VOICES)}",
            ) from None

    def info(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "voice": self.voice or dict(DEFAULT_VOICES),
            "version": self.helper.version,
            "sample_rate": self.helper.sample_rate,
            "rate_wpm": self.rate_wpm,
        }

    def synthesize(self, text: str, lang: str) -> tuple[np.ndarray, int]:
        voice = self.voice_for(lang)
        kind, payload = self.helper.request(text, voice, self.rate_wpm)
        if kind == "novoice":
            raise ConfigError(f"espeak-ng has no voice '{voice}'", hint="try en-us or cmn")
        if kind != "ok":
            raise ModelError(f"espeak-ng could not synthesise {text[:40]!r}: {payload}")
        pcm = np.frombuffer(payload, dtype=np.int16)
        return pcm.astype(np.float32) / 32768.0, self.helper.sample_rate


if __name__ == "__main__":
    # Helper-process entry point: requests on stdin, replies on a private copy of
    # stdout; the C library's own prints go to stderr so they cannot corrupt replies.
    _replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, _replies)
