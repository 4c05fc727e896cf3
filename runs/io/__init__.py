"""Stores: the zarr v3 store of a run or sweep, and xarray views of results."""
