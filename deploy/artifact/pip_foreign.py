"""Run pip with environment markers evaluated for another platform: `python pip_foreign.py
'<markers as JSON>' <pip arguments>`.

pip's --platform/--python-version/--implementation choose which wheels fit the target, but
markers (`colorama; platform_system == "Windows"`, `pywin32; sys_platform == "win32"`) are still
evaluated for the interpreter pip runs in (pypa/pip #11664, #6117), so a Windows wheel set
resolved on Linux would silently lack its Windows-only dependencies. Run as a script, never
imported: it changes pip's marker environment for this process only.
"""

import json
import runpy
import sys


def main() -> None:
    from pip._vendor.packaging import markers

    target = json.loads(sys.argv[1])
    native = markers.default_environment
    markers.default_environment = lambda: {**native(), **target}
    sys.argv = ["pip", *sys.argv[2:]]
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
