"""The diversity calendar's rules: when each observance falls, and how it is announced."""
