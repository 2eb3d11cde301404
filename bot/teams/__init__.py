"""The Microsoft Teams adapter: activities in, through the command layer, and Adaptive Cards out."""

import warnings

# The Teams SDK announces a preview feature of its own (HTML widgets, unused here) as it is imported, which
# would be the first line of every `edibot run --teams`: silenced here, before any module of ours imports it.
warnings.filterwarnings("ignore", message="HtmlWidgetSecurityPolicy is in preview")
