"""Local stand-ins for the outside world (exchanges), driven by real client libraries."""
