"""hpcspec: declarative, Terraform-style job management for Microsoft HPC Pack clusters."""

__version__ = "0.1.0"
