"""`python -m hpcspec` runs the CLI."""

from hpcspec.cli import main

if __name__ == "__main__":
    main()
