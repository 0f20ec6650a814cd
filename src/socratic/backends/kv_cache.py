"""A transformers KV cache that grows into reserved room instead of being copied at every token.

    cache = RoomyCache(model.config, headroom=max_new_tokens + 1)
    model.generate(..., cache=cache)

transformers' `DynamicLayer.update` appends a token with `torch.cat`, which copies the whole cache of
every layer at every decoding step. With k=5 samples of ~600-token prompts in one batch that copy
moves as many bytes as attention itself reads (measured on the 2-core dev CPU: ~14% of a generate
call). Here each layer keeps a buffer with `headroom` free positions after the cached ones and
writes new tokens into it; `keys`/`values` are views of the filled part, so everything else
transformers does with a DynamicLayer (masks, cropping, repeating, selecting rows) works unchanged.
Whenever those operations replace the tensors, the next update falls back to one concatenation
and reserves fresh room.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from socratic.memory import return_freed_memory


class RoomyLayer(DynamicLayer):
    def __init__(self, headroom: int):
        super().__init__()
        self.headroom = headroom
        self._room: tuple[torch.Tensor, torch.Tensor] | None = None

    def _has_room(self, incoming: int) -> bool:
        if self._room is None or not self.is_initialized or self.keys is None:
            return False
        room_keys = self._room[0]
        # Still a view of our buffer (not a tensor that crop/repeat/select put in its place)?
        return (self.keys.data_ptr() == room_keys.data_ptr() and self.keys.shape[:2] == room_keys.shape[:2]
                and self.keys.shape[-2] + incoming <= room_keys.shape[-2])

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self._has_room(key_states.shape[-2]):
            super().update(key_states, value_states)
            self._reserve()
            return self.keys, self.values
        start = self.keys.shape[-2]
        end = start + key_states.shape[-2]
        room_keys, room_values = self._room
        room_keys[:, :, start:end] = key_states
        room_values[:, :, start:end] = value_states
        self.keys, self.values = room_keys[:, :, :end], room_values[:, :, :end]
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep the rows at `indices`, in that order (finished rows leave the batch), the room kept.

        When no kept row moves onto another kept row's place (the decoding loop fills the places of
        finished rows with rows from the end), the moved rows are copied within the buffer and the
        batch becomes a prefix of it: one row's copy per finished row, not a copy of the whole cache.
        """
        if not self._has_room(0):
            super().batch_select_indices(indices)
            return
        length, order = self.keys.shape[-2], indices.tolist()
        if any(source != place and source < len(order) for place, source in enumerate(order)):
            room = (self._room[0][indices], self._room[1][indices])
        else:
            for place, source in enumerate(order):
                if source != place:
                    for buffer in self._room:
                        buffer[place, :, :length] = buffer[source, :, :length]
            room = (self._room[0][:len(order)], self._room[1][:len(order)])
        self._room = room
        self.keys, self.values = room[0][:, :, :length], room[1][:, :, :length]

    def _reserve(self) -> None:
        """Copy the cached tensors into new buffers with `headroom` free positions after them."""
        length = self.keys.shape[-2]
        room = []
        for tensor in (self.keys, self.values):
            batch, heads, _, dim = tensor.shape
            buffer = tensor.new_empty(batch, heads, length + self.headroom, dim)
            buffer[:, :, :length] = tensor
            room.append(buffer)
        self._room = (room[0], room[1])
        self.keys, self.values = room[0][:, :, :length], room[1][:, :, :length]


class RoomyCache(DynamicCache):
    """A DynamicCache whose full-attention layers are RoomyLayers (sliding-window layers stay as they are)."""

    def __init__(self, config, headroom: int):
        super().__init__(config=config)
        self.layers = [RoomyLayer(headroom) if type(layer) is DynamicLayer else layer for layer in self.layers]

    @property
    def full_attention(self) -> bool:
        """Every layer keeps the whole context (no sliding window): caches of prompts can be stacked."""
        return bool(self.layers) and all(isinstance(layer, RoomyLayer) for layer in self.layers)

    def fill_left_padded(self, singles: list[DynamicCache], width: int, *, release: bool = False) -> None:
        """Fill this empty cache with one-prompt caches stacked into a batch, each left-padded to `width`.

        The padded positions hold zeros; the attention mask of the batch must hide them. `release`: the caller
        keeps none of `singles`, so each of their layers is dropped once stacked and the prompts' caches and the
        batch's are never held whole at once (100 Debugging test prompts in 4 calls of 32, with generate's trim
        after each call: peak 3,292 -> 2,811 MB; bench/RESULTS.md).
        """
        for index in range(len(self.layers)):
            keys = torch.cat([_pad_left(single.layers[index].keys, width) for single in singles])
            values = torch.cat([_pad_left(single.layers[index].values, width) for single in singles])
            if release:
                for single in singles:
                    single.layers[index] = None
                return_freed_memory()  # a prompt's layer is a small block, which glibc would keep to itself
            self.update(keys, values, index)


def _pad_left(states: torch.Tensor, width: int) -> torch.Tensor:
    return torch.nn.functional.pad(states, (0, 0, width - states.shape[-2], 0))
