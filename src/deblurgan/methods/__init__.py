"""Deblurring methods behind one interface: the network and blind deconvolution."""

from deblurgan.methods.interface import (
    METHODS,
    DeblurMethod,
    MethodEntry,
    MethodOptions,
    Restoration,
    build_method,
)

__all__ = ["METHODS", "DeblurMethod", "MethodEntry", "MethodOptions", "Restoration", "build_method"]
