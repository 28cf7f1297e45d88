"""The ``adfemu`` program (also ``python -m adfemu``). A command line that will start Azurite starts it first,
before click and the command's modules are imported (``_startup.begin_early``): their 0.1 s then overlaps
Azurite's start, the longest part of `adfemu serve` and `adfemu run`."""
import sys

from adfemu import _startup


def main() -> None:
    _startup.begin_early(sys.argv[1:])
    from adfemu.cli import console
    console()


if __name__ == "__main__":
    main()
