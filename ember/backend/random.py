"""Random number generators, one default per device, never NumPy's global state.

``Generator`` wraps ``numpy.random.Generator`` (PCG64) on the CPU and ``cupy.random.Generator`` on
CUDA. ``manual_seed(s)`` reseeds every default generator, so a seeded program is reproducible.
"""

from __future__ import annotations

import numpy as np

from .device import Device, get_device

_INITIAL_SEED = 67280421310721


class Generator:
    """A seedable source of random arrays for one device (PyTorch's ``torch.Generator``)."""

    def __init__(self, device="cpu"):
        self.device: Device = get_device(device)
        self.manual_seed(_INITIAL_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        if self.device.type == "cpu":
            self.rng = np.random.Generator(np.random.PCG64(self._seed))
        else:
            with self.device:
                self.rng = self.device.xp.random.Generator(self.device.xp.random.XORWOW(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from fresh OS entropy and return the new seed."""
        new = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """A JSON-serializable snapshot of the generator (CPU only)."""
        if self.device.type != "cpu":
            raise NotImplementedError("get_state is only available for CPU generators")
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state: dict) -> None:
        if self.device.type != "cpu":
            raise NotImplementedError("set_state is only available for CPU generators")
        self._seed = state["seed"]
        self.rng.bit_generator.state = state["bit_generator"]


_defaults: dict[Device, Generator] = {}


def default_generator(device: Device) -> Generator:
    gen = _defaults.get(device)
    if gen is None:
        gen = _defaults[device] = Generator(device)
    return gen


def manual_seed(seed: int) -> Generator:
    """Seed the CPU generator and every CUDA generator created so far (and later, lazily)."""
    global _INITIAL_SEED
    _INITIAL_SEED = int(seed)
    for gen in _defaults.values():
        gen.manual_seed(seed)
    return default_generator(get_device("cpu"))


def initial_seed() -> int:
    return default_generator(get_device("cpu")).initial_seed()
