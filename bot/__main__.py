"""`python -m bot` is the `cisp-bot` command."""

from bot.cli import main

if __name__ == "__main__":
    main()
