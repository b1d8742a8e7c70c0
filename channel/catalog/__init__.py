"""The vendor's products and their promotions."""
