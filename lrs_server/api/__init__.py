"""gRPC servicers: unpack the request, call a domain service, pack the response. Nothing else."""
