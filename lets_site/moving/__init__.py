"""Moving in: importing a group's members, organisations, categories, listings and ledger
from eLAS, eLAND or a spreadsheet, and the full export (docs/import.md)."""
