"""Site settings, the home page, the language switch and the admin start page."""
