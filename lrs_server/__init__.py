"""The Learner Registration Service: a gRPC server that issues ULNs and guards learner data."""
