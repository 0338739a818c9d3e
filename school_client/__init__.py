"""School-side client for the Learner Registration Service (console script ``lrs-school``)."""
