"""The Microsoft Teams adapter: activities in, through the command layer, and Adaptive Cards out."""
