"""FixedBatchSampler: the same micro-batches every epoch, visited in a new order each epoch."""

from __future__ import annotations

from socratic.train.dpo import FixedBatchSampler


def batches(sampler, size):
    order = list(sampler)
    return [tuple(order[i:i + size]) for i in range(0, len(order), size)]


def test_micro_batches_are_fixed_and_their_order_changes_per_epoch():
    sampler = FixedBatchSampler(11, 2, seed=0)
    first = batches(sampler, 2)
    assert sorted(first[:-1]) == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert first[-1] == (10,)  # the short one stays last, so a DataLoader cuts the same batches
    orders = set()
    for epoch in range(5):
        sampler.set_epoch(epoch)
        epoch_batches = batches(sampler, 2)
        assert sorted(epoch_batches) == sorted(first)
        orders.add(tuple(epoch_batches))
    assert len(orders) > 1
    sampler.set_epoch(3)
    again = FixedBatchSampler(11, 2, seed=0)
    again.set_epoch(3)
    assert list(sampler) == list(again)  # a resumed run sees the same order
    assert len(sampler) == 11
