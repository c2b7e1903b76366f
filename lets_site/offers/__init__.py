"""Offers and wants (vraag en aanbod)."""
