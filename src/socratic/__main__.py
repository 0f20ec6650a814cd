"""`python -m socratic ...` = the `socratic` command; launchers (torchrun, `accelerate launch -m socratic`) need it."""

from socratic.cli import main

if __name__ == "__main__":
    main()
