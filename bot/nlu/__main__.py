"""`python -m bot.nlu parse|train|evaluate|export-rasa`: the NLU commands without
the rest of Amane (run_bot.py wires the same functions into `run_bot.py nlu ...`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.nlu.commands import evaluate, export_rasa, parse_lines, train
from bot.nlu.model import DEFAULT_DATA_DIR, DEFAULT_MODEL_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="data/intents/")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="var/nlu/")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("parse", help="JSON lines {'text': ...} on stdin -> results on stdout")
    sub.add_parser("train", help="train the model now and cache it")
    ev = sub.add_parser("evaluate", help="stratified cross-validation report")
    ev.add_argument("--folds", type=int, default=5)
    ev.add_argument("--errors", type=int, default=0, help="show this many intent errors")
    ex = sub.add_parser("export-rasa", help="write a Rasa project (config.yml, data/nlu.yml)")
    ex.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if args.command == "parse":
        from bot.nlu.pipeline import LocalNlu

        backend = LocalNlu(args.model_dir, data_dir=args.data)
        parse_lines(backend, sys.stdin, sys.stdout)
    elif args.command == "train":
        print(train(args.data, args.model_dir))
    elif args.command == "evaluate":
        print(evaluate(args.data, folds=args.folds, show_errors=args.errors), end="")
    elif args.command == "export-rasa":
        for path in export_rasa(args.out_dir, args.data):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
