"""Plain-Python domain logic: registration, lookup, verification. No protobuf, no SQL."""
