"""Book swaps: members give, lend or swap their books (issue 12)."""
