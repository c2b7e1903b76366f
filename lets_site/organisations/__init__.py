"""Member organisations (lidorganisaties) and the intermediaries who act for them."""
