# Replaces the general torch hook of pyinstaller-hooks-contrib for this app.
#
# The general hook collects every torch submodule (importing each one at build time, which
# takes minutes), every data file and every library in torch/lib, test libraries included.
# This app needs what it imports: lenet-draw.spec passes the modules the app loads at run
# time (recorded by packaging/probe_imports.py) as hidden imports, and static analysis follows
# their imports from there.
from pathlib import Path

from PyInstaller import compat
from PyInstaller.utils.hooks import PY_DYLIB_PATTERNS, collect_dynamic_libs, get_package_paths

# Bytecode plus the .py sources: torch reads some of its own modules' source when it is
# imported (torch.utils._config_module uses inspect.getsource on its config modules).
module_collection_mode = "pyz+py"
warn_on_missing_hiddenimports = False

# torch/lib: libtorch_cpu, libc10, libtorch_python, libgomp... (torch_global_deps is loaded with
# ctypes, so binary analysis alone would miss it). The spec drops the test libraries.
binaries = collect_dynamic_libs("torch", search_patterns=PY_DYLIB_PATTERNS + ["*.so.*"])
# Of torch's data files only the shared-memory manager: `import torch` checks that it exists
# (not on Windows). Headers, CMake files, test programs and code templates stay out.
datas = [] if compat.is_win else [(str(Path(get_package_paths("torch")[1]) / "bin" / "torch_shm_manager"), "torch/bin")]
hiddenimports = []

# As in the general hook: no symbolic links from torch/lib to the top folder on Linux, which
# confuse torch about where its libraries are.
bindepend_symlink_suppression = ["**/torch/lib/*.so*"]
