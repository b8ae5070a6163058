#!/usr/bin/env python3
"""Amane's entry point: `python run_bot.py SUBCOMMAND` (see `--help`)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
