"""What the data is: catalogue rows, listings, rejects, categories, configuration."""
