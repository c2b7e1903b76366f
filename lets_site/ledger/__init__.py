"""The mutual-credit ledger: accounts, transfers, payment requests, statements."""
