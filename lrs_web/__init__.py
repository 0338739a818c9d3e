"""lrs-web: the web pages for learners and review operators, a gRPC client of lrs-server."""
