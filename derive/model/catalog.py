"""The built-in catalog: the networks ``derive report`` and ``derive gradcheck`` cover by default."""

from __future__ import annotations

from ..errors import InputError
from .network import Network

__all__ = ["CATALOG", "case"]

CATALOG: dict[str, Network] = {
    net.name: net
    for net in [
        Network([2, 2, 2], hidden="sigmoid", output="sigmoid", loss="mse", name="sigmoid-mse"),
        Network([2, 3, 1], hidden="sigmoid", output="sigmoid", loss="bce", name="sigmoid-bce"),
        Network([2, 3, 3], hidden="sigmoid", output="softmax", loss="cce", name="softmax-cce"),
        Network([2, 3, 2], hidden="tanh", output="sigmoid", loss="mse", name="tanh-hidden"),
        Network([2, 3, 1], hidden="relu", output="identity", loss="mse", name="relu-hidden"),
        Network([2, 2, 2], hidden="sigmoid", output="sigmoid", loss="bce", l2=0.1, name="l2"),
        Network([2, 2, 2], hidden="sigmoid", output="sigmoid", loss="mse", bias="column", name="bias-column"),
    ]
}


def case(name: str) -> Network:
    """The catalog network called ``name``; an InputError listing the cases otherwise."""
    try:
        return CATALOG[name]
    except KeyError:
        raise InputError(f"unknown case {name!r}; the catalog has {', '.join(CATALOG)}") from None
