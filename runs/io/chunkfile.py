"""A unit's chunk files, encoded and written in the calling thread with zarr's own codecs.

Why not zarr's ``Array.__setitem__``: every region write goes through zarr's async machinery (its event
loop thread, a thread hop for the blosc codec and another for the file write). On a 58-array unit of
256 full-history models that machinery costs ~0.9 ms of CPU an array, three times the encoding itself:
67 ms a unit (77 ms CPU, on two threads) against 31 ms here (one thread). A sweep's unit always writes
whole chunks (one chunk along ``sample`` per unit, the other axes whole), so nothing needs zarr's
read-merge path: this module runs the array's codec chain (``metadata.codecs``, each codec's synchronous
``_encode_sync``, as zarr's pipeline would) on the chunk and writes the file the way zarr's LocalStore
does (a ``.partial`` sibling, then an atomic rename). The bytes are zarr's, bit for bit
(tests/test_store_fastpath.py). Arrays it cannot write so (sharded, an irregular grid, a codec without a
synchronous encoder, a store that is not a local directory) return False, and the caller uses zarr.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
from zarr.core.buffer import default_buffer_prototype
from zarr.core.chunk_grids import RegularChunkGrid

_PROTOTYPE = default_buffer_prototype()


def _codec_chain(arr):
    """The array's codecs when every one can encode synchronously and none is a sharding codec, else None."""
    md = arr.metadata
    if getattr(md, "zarr_format", None) != 3 or not isinstance(md.chunk_grid, RegularChunkGrid):
        return None
    codecs = tuple(md.codecs)
    for c in codecs:
        if type(c).__name__ == "ShardingCodec" or not hasattr(c, "_encode_sync"):
            return None
    return codecs


def write_whole_chunk(root: Path | None, arr, i: int, lo: int, data: np.ndarray) -> bool:
    """Write ``data`` (samples lo... of chunk i along the first axis, every other axis whole; already of the
    array's dtype) as chunk (i, 0, ...) of ``arr`` under store directory ``root``; False (nothing
    written) when the array needs zarr's own path. A last, partial chunk is padded with the fill value,
    as zarr stores it; a chunk equal to the fill value is written too (the store's ``write_empty_chunks``)."""
    if root is None:
        return False
    codecs = _codec_chain(arr)
    if codecs is None:
        return False
    md = arr.metadata
    shape = tuple(md.chunk_grid.chunk_shape)
    if data.shape[1:] != shape[1:] or data.shape[0] > shape[0] or lo != i * shape[0]:
        return False
    coords = (i,) + (0,) * (len(shape) - 1)
    spec = md.get_chunk_spec(coords, arr.async_array.config, _PROTOTYPE)
    if data.shape[0] == shape[0]:
        chunk = np.ascontiguousarray(data)
    else:                                     # the last unit: zarr pads its chunk with the fill value
        chunk = np.full(shape, md.fill_value, dtype=data.dtype)
        chunk[:data.shape[0]] = data
    buf = _PROTOTYPE.nd_buffer.from_numpy_array(chunk)
    for codec in codecs:                      # array->array, array->bytes, bytes->bytes, in zarr's order
        buf = codec._encode_sync(buf, spec)
        spec = codec.resolve_metadata(spec)
    path = f"{root}/{arr.path}/{md.encode_chunk_key(coords)}"
    tmp = f"{path}.{uuid.uuid4().hex}.partial"      # beside it, as zarr's LocalStore writes it
    try:
        f = open(tmp, "wb")
    except FileNotFoundError:                 # a "/"-keyed store's new chunk directory (c/i of a 2-D array)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        f = open(tmp, "wb")
    try:
        with f:
            f.write(buf.as_buffer_like())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
