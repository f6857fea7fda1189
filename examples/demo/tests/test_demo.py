import pytest

import demo


def test_version_comes_from_metadata() -> None:
    assert demo.__version__ == "0.3.0"


def test_restock_adds() -> None:
    assert demo.Item("bolt", 2).restock(3).quantity == 5


def test_restock_rejects_negative() -> None:
    with pytest.raises(ValueError):
        demo.Item("bolt").restock(-1)
