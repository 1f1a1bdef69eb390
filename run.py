#!/usr/bin/env python
"""Entry point: python run.py SCENARIO.yaml [--out DIR] [--runs N] [--seed S] [--agents N] [--days D]."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
