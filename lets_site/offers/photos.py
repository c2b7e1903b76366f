"""Listing photos: the shared image pipeline (lets_site/photos.py) with the offers' folder,
``instance/uploads/offers``."""

from __future__ import annotations

from lets_site.photos import PhotoStore, StoredPhoto, file_name, key_of

STORE = PhotoStore("offers", field="photo")

folder = STORE.folder
store = STORE.store
path_for = STORE.path_for
serve = STORE.serve

__all__ = ["STORE", "StoredPhoto", "file_name", "folder", "key_of", "path_for", "serve",
           "store"]
