"""Every edge: catalogue sources, the sales channels, the state store, spreadsheets, the config
file, the sandbox marketplace. Each speaks its outside's format and hands on :mod:`schemas` types."""
