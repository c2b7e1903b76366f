"""The group feed: /feed.json (JSON Feed 1.1 with the ``_lets`` extension) and /feed.atom,
built from the feature contract's public items only (docs/feed.md)."""
