"""Named random streams derived from one run seed.

Each component draws from its own ``numpy.random.Generator``. A stream is keyed by the run
seed and a name: the name is hashed (BLAKE2b, so the key is identical in every process and
platform) into the ``spawn_key`` of a ``numpy.random.SeedSequence``. Streams are therefore
independent of each other and of creation order: adding a stream never changes the draws of
existing ones.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["derive_seed", "name_key", "stream", "Streams", "Buffered"]


def name_key(name: str) -> tuple[int, ...]:
    """Stable 128-bit key of a stream name, as four uint32 words."""
    if not isinstance(name, str) or not name:
        raise ValueError("stream name must be a non-empty string")
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` under run seed ``seed`` (PCG64)."""
    ss = np.random.SeedSequence(entropy=_check_seed(seed), spawn_key=name_key(name))
    return np.random.Generator(np.random.PCG64(ss))


def derive_seed(seed: int, *parts: object) -> int:
    """A 63-bit child seed of ``seed`` for the key ``parts`` (e.g. ``("rep", 3)``).

    Used to give each replication or sweep run its own seed. Deterministic across processes.
    """
    name = "/".join(str(p) for p in parts) or "derived"
    ss = np.random.SeedSequence(entropy=_check_seed(seed), spawn_key=name_key(name))
    return int(ss.generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> np.uint64(1))


class Streams:
    """A lazily filled, cached family of named streams for one seed."""

    __slots__ = ("seed", "_cache")

    def __init__(self, seed: int):
        self.seed = _check_seed(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            gen = self._cache[name] = stream(self.seed, name)
        return gen

    def names(self) -> list[str]:
        """Names of the streams created so far."""
        return sorted(self._cache)


class Buffered:
    """Scalar draws served from vectorised blocks: ``next_value = buf()``.

    ``Buffered(lambda n: gen.exponential(2.0, n))`` costs one numpy call per ``block``
    draws instead of one per draw, which matters on per-event hot paths.
    """

    __slots__ = ("_draw", "_block", "_it")

    def __init__(self, draw, block: int = 4096):
        if block < 1:
            raise ValueError("block must be >= 1")
        self._draw = draw
        self._block = block
        self._it = iter(())

    def __call__(self) -> float:
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self._draw(self._block).tolist())
            return next(self._it)
