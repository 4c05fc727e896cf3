"""Specs: scenarios, sweep specs, sampling, the cross-parameter rules and the spec hash."""
