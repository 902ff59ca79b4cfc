"""The sandbox's recordings: whatever a simulated caller says into a Record plays back as one short tone.

The carrier keeps a recording in its storage and gives its URL in the Record action's ``RecordingUrl``.
The sandbox gives ``{sandbox}/flexml/v1/sandbox/recordings/{file id}.{format}``, and answers that URL
(with no sign-in, as a browser's audio player fetches it) with a WAV file made here with the standard
library: 0.4 seconds of a 440 Hz tone, 8 kHz mono, generated once per process. So the whole path, from a
call that leaves a message to playing it in the designer's Voicemail page, can be tried offline.
"""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import wave

RECORDINGS_PATH = "/flexml/v1/sandbox/recordings"
TONE_HZ = 440
TONE_SECONDS = 0.4
SAMPLE_RATE = 8000
# the file id the simulator makes (32 hex digits) and the formats a Record may ask for
RECORDING_NAME = re.compile(r"^[0-9a-f]{32}\.(wav|mp3|ul)\Z")


@functools.cache
def tone_wav() -> bytes:
    """The recording every sandbox URL plays: a short tone, as WAV bytes (16-bit PCM)."""
    frames = int(SAMPLE_RATE * TONE_SECONDS)
    fade = SAMPLE_RATE // 50  # 20 ms in and out: no click
    samples = bytearray()
    for i in range(frames):
        level = min(1.0, i / fade, (frames - i) / fade)
        samples += struct.pack("<h", int(12000 * level * math.sin(2 * math.pi * TONE_HZ * i / SAMPLE_RATE)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(bytes(samples))
    return out.getvalue()


def recordings_url(base_url: str) -> str:
    """Where the sandbox at ``base_url`` (``http://127.0.0.1:8070``) serves its recordings."""
    return base_url.rstrip("/") + RECORDINGS_PATH
