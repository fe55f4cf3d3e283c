"""The emulator's clock (shared with the other emulators: ``emulator_kit.clock``).

Advancing it is how tests expire access tokens, age "Testing" refresh tokens past 7 days, slide
quota windows and purge tombstones without sleeping.
"""

from __future__ import annotations

from emulator_kit.clock import Clock

__all__ = ["Clock"]
