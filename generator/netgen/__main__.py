"""`python -m netgen`: the same as the `netgen` command."""

from netgen.cli import main

main()
