"""warroom: a terminal war room for production incidents."""

__version__ = "0.1.0"
