"""Target-type facts that need no pyOCD import (pyOCD takes most of a second to load)."""

# pyOCD's generic target: any Cortex-M, without a CMSIS pack.
DEFAULT_TARGET = "cortex_m"
