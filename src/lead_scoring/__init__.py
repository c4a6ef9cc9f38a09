"""lead_scoring: the Python package behind the dbt project (generator, attribution, ML)."""

import os as _os

# XGBoost's (and scikit-learn's) OpenMP threads spin while they wait for work. Inside a dbt build
# other nodes share the two cores, and spinning threads made each boosting round 4-7x slower
# (measured: 0.099 s vs 0.014 s per round on 37k rows with another build running); passive
# waiting costs nothing on a quiet machine. It must be set before OpenMP is loaded, i.e. before
# xgboost or sklearn are imported, which every path into this package's ML code passes through.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
