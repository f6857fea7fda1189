"""A tiny inventory library: devbox's demo project."""

from importlib.metadata import version

import attrs

__version__ = version("demo")


@attrs.frozen
class Item:
    name: str
    quantity: int = 0

    def restock(self, amount: int) -> "Item":
        if amount < 0:
            raise ValueError("amount must be >= 0")
        return attrs.evolve(self, quantity=self.quantity + amount)
