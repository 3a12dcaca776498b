#!/usr/bin/env python3
"""Fails when an #include points against the architecture: bench -> scenarios -> pools,
and inside pools/: core <- machine <- threads, process; core <- yardsticks; the registry
(pools/registry.*) on top of them all. Prints each include that breaks the rule."""
import pathlib
import re
import sys

ALLOWED = {
    "pools/core": {"pools/core"},
    "pools/machine": {"pools/core", "pools/machine"},
    "pools/threads": {"pools/core", "pools/machine", "pools/threads"},
    "pools/process": {"pools/core", "pools/machine", "pools/process"},
    "pools/yardsticks": {"pools/core", "pools/yardsticks"},
    "pools": {"pools", "pools/core", "pools/machine", "pools/threads", "pools/process", "pools/yardsticks"},
}
ALLOWED["scenarios"] = ALLOWED["pools"] | {"scenarios"}
ALLOWED["bench"] = ALLOWED["scenarios"] | {"bench"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    broken = []
    checked = 0
    for folder in ALLOWED:
        for source in sorted((root / folder).glob("*.[ch]pp")):
            checked += 1
            for target in INCLUDE.findall(source.read_text()):
                layer = str(pathlib.PurePosixPath(target).parent)
                if layer in ALLOWED and layer not in ALLOWED[folder]:
                    broken.append(f"{source.relative_to(root)} includes {target}: {folder}/ may not depend on {layer}/")
    for line in broken:
        print(line)
    if checked == 0:
        print(f"no sources found under {root}")
        return 1
    print(f"{checked} files checked, {len(broken)} includes against the layering")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
