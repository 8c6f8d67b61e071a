"""How data gets in and out: catalogue sources, spreadsheets, the marketplace."""
