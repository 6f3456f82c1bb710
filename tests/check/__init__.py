"""Tests of `hpcspec cluster check`, cluster profiles at run time and replayed traces."""
