"""Creatives partners place on their sites: banners for each offer, and their ready embed code."""
