"""What poolbench's Python scripts share: bad input as one line and exit code 2, and
result files that appear whole or not at all."""

import argparse
import os
import tempfile


class BadInput(Exception):
    """Bad user input: the script prints one line on stderr, exits 2 and writes no file."""


def strict_parser(description):
    """An argparse parser that raises BadInput instead of printing usage and exiting."""
    parser = argparse.ArgumentParser(description=description)

    def error(message):
        raise BadInput(message)

    parser.error = error
    return parser


def check_writable(path, flag="--out"):
    """Raises BadInput unless a file can be created at `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK) or os.path.isdir(path):
        raise BadInput(f"cannot write {flag} '{path}'")


def write_atomically(path, text):
    """Writes `text` to a temporary file beside `path`, then renames it into place, with
    the permissions a new file gets (the temporary one is private)."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".tmp", delete=False) as tmp:
        tmp.write(text)
    publish(tmp.name, path)


def publish(written, path):
    """Renames the finished temporary file `written` to `path`, with the permissions a new
    file gets (a temporary file is private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(written, 0o666 & ~umask)
    os.replace(written, path)
