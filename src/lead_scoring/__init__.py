"""lead_scoring: the Python package behind the dbt project (generator, attribution, ML)."""

__version__ = "0.1.0"
