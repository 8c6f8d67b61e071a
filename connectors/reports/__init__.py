"""Pictures written back to people: the month's sales picture of a group (:mod:`.sales`), a PNG
that reads on a phone screen and can be forwarded in a chat.

Nothing is imported here: matplotlib takes a second or two to load, so only a run that draws a
picture pays for it (``from connectors.reports.sales import write_sales_png``).
"""
