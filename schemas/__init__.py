"""What the data is and the pure rules on it: values, normalising, listings, plans, names, the
stock rule, orders, the channel protocol, configuration, errors. No I/O, no Prefect."""
