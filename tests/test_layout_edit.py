"""Hand edits of a layout (heapgui.layout.edit): refusals, order, merging, what a lock keeps."""

import pytest

from heapgui.errors import HeapguiError
from heapgui.layout.edit import EditedLayout, EditedPool
from heapgui.layout.kept import Kept
from heapgui.layout.pools import Pool

SEED = EditedLayout.of([Pool(12, 222), Pool(4, 201), Pool(28, 115)])


def test_pools_are_kept_in_ascending_blocks():
    assert [p.block for p in SEED.pools] == [4, 12, 28]
    moved = SEED.with_block(0, 64)
    assert moved.plain() == (Pool(12, 222), Pool(28, 115), Pool(64, 201))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.with_block(0, 6), "multiple of the word size"),
        (lambda e: e.with_block(0, 0), "multiple of the word size"),
        (lambda e: e.with_block(0, 12), "exists already"),
        (lambda e: e.with_pool(28), "exists already"),
        (lambda e: e.with_capacity(0, -1), "invalid capacity"),
        (lambda e: e.merged(2), "the next larger one"),
    ],
)
def test_refusals(edit, message):
    with pytest.raises(HeapguiError, match=message):
        edit(SEED)


def test_merge_keeps_the_bytes_of_both_pools():
    merged = SEED.merged(0)
    # 201 blocks of 4 are 804 bytes: 67 blocks of 12 more.
    assert merged.plain() == (Pool(12, 222 + 67), Pool(28, 115))
    assert sum(p.bytes for p in merged.plain()) <= sum(p.bytes for p in SEED.plain())


def test_a_lock_keeps_the_block_and_the_capacity_typed():
    locked = SEED.with_lock(2, True)
    assert locked.kept() == (Kept(28, 0),)  # the optimizer's capacity is no minimum
    typed = SEED.with_capacity(2, 300).with_lock(2, True)
    assert typed.kept() == (Kept(28, 300),)
    assert typed.locks() == {28: 300}
    # Carried over to a new optimum's pool of the same block.
    again = EditedLayout.of([Pool(28, 400), Pool(128, 3)], typed.locks())
    assert again.pools[0] == EditedPool(28, 400, True, 300)
    assert not again.pools[1].locked


def test_an_added_pool_has_no_capacity_until_given_one():
    added = SEED.with_pool(SEED.new_block())
    assert added.plain()[-1] == Pool(56, 0)
