"""Deterministic record/replay of a lab run (Lab(rr=...), `lab.py
record|replay`, docs/debugging.md)."""

# Record/replay (Lab(rr=...), `lab.py record|replay`): the instruction
# counter's fixed shift, 2^5 ns of virtual time per guest instruction.
# Fixed rather than "auto": the adaptive shift follows the host's clock.
RR_SHIFT = 5
RR_MANIFEST = "manifest.json"

