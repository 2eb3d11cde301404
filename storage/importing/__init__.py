"""Plan importers: read a file into rows, find its actions, and bring the store up to date."""
