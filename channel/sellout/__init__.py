"""Sell-out: what partners sold to end customers, uploaded, checked, booked once, and turned into points."""
